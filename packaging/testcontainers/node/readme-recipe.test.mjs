// Runs the Testcontainers (Node) recipe of packaging/npm/payer-sandbox/README.md as written: the
// README's ```js block that starts the `payer-sandbox` image is saved as a module in this project
// (so that it imports this project's pinned testcontainers) and imported, which runs it. One line
// is appended to it, an `export` of its top-level constants, for the checks after it has run.
// Needs a container engine and an image named payer-sandbox: packaging/testcontainers/run.sh
// provides both, and runs this project from a copy in a temporary directory, with RECIPE_README
// naming the README.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import test from 'node:test';
import { promisify } from 'node:util';

// Ryuk, testcontainers' reaper, is a container of its own whose image comes from Docker Hub, which
// the machines that run this have no access to. The recipe's `container.stop()` removes its
// container, which the test checks below (and run.sh removes any container of the image left
// behind by a failed run).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const README = process.env.RECIPE_README ?? new URL('../../npm/payer-sandbox/README.md', import.meta.url);

function readmeRecipe() {
  const blocks = [...readFileSync(README, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.filter((block) => block.includes("new GenericContainer('payer-sandbox')"));
  assert.equal(found.length, 1, `${found.length} js blocks of the README start the payer-sandbox image`);
  return found[0];
}

test("the README's Testcontainers recipe runs against the payer-sandbox image", async () => {
  const module = new URL(`./readme-recipe.${process.pid}.generated.mjs`, import.meta.url);
  writeFileSync(module, `${readmeRecipe()}\nexport { port, base, container, tokens, read, smart };\n`);
  let recipe;
  try {
    recipe = await import(module.href);
  } finally {
    rmSync(module, { force: true });
  }

  // The URL announced through PAYER_SANDBOX_PUBLIC_URL is the host port chosen up front.
  assert.equal(recipe.base, `http://localhost:${recipe.port}`);
  // The headless sign-in and the code exchange gave a token for the member's Patient.
  assert.equal(recipe.tokens.token_type, 'Bearer');
  assert.equal(recipe.tokens.patient, 'jason-argonaut');
  assert.equal(recipe.tokens.scope, 'patient/*.read');
  // Reading it with the token answered 200 (the recipe asserts it too).
  assert.equal(recipe.read.status, 200);
  // The issuer and the endpoints are under the announced URL.
  assert.equal(recipe.smart.issuer, recipe.base);
  assert.equal(recipe.smart.token_endpoint, `${recipe.base}/oauth2/token`);
  assert.equal(recipe.smart.authorization_endpoint, `${recipe.base}/oauth2/authorize`);

  // container.stop() removed the container: the engine no longer knows it.
  const id = recipe.container.getId();
  await assert.rejects(promisify(execFile)('docker', ['container', 'inspect', id]), /No such (container|object)/i);
});
