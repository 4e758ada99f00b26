// Types of payer-sandbox's test helper. The JSON shapes follow the server's documentation
// (docs/sandbox-tools.md, docs/oauth.md); fields the server may add later are allowed through
// index signatures where a test is likely to read them.

// Headers and RequestInit are the fetch types of lib.dom or @types/node, whichever the
// project has.

export interface StartOptions {
  /**
   * Extra command-line flags (`['--strict']`, `['--clients', 'apps.json']`). Without a
   * `--listen` of their own, the server listens on `127.0.0.1:0` (a free port).
   */
  args?: string[];
  /** The binary to run; default `$PAYER_SANDBOX_BIN`, else the installed platform package's. */
  binary?: string;
  /**
   * Environment for the server, added to this process's. `PAYER_SANDBOX_*` variables of this
   * process are not passed on (only these are); a value of `undefined` removes a variable.
   */
  env?: Record<string, string | undefined>;
  /** How long to wait for the listening line (default 30000 ms). */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 5000 ms). */
  stopTimeoutMs?: number;
  /** How many characters of output log() keeps, the newest (default 1 MiB). */
  logLimit?: number;
}

/** A client_id (a built-in app's secret is known: `sandbox-app`), or an app's credentials. */
export type ClientSpec = string | { id: string; secret?: string };

export interface LoginOptions {
  /** Scopes to request, space-separated or a list; default: the server's `--default-scope`. */
  scope?: string | string[];
  /** The app; default `sandbox-app` (confidential, secret `sandbox-secret`). */
  client?: ClientSpec;
  /** A registered redirect URI; default the app's first (`http://localhost/callback`). */
  redirectUri?: string;
  state?: string;
  nonce?: string;
  aud?: string;
  /** Another plan of the network (an id or alias): the member ID is that plan's. */
  plan?: string;
  /** Sign in as this personal representative (a RelatedPerson id) of a minor member. */
  representative?: string;
  /** Resource types or granular scopes the member unticks on the consent page. */
  decline?: string[];
  /** How a confidential app authenticates at the token endpoint; default: what the plan accepts (`body` for the default plan). */
  clientAuth?: 'basic' | 'body';
}

export interface RefreshOptions {
  scope?: string | string[];
  client?: ClientSpec;
  plan?: string;
  clientAuth?: 'basic' | 'body';
}

/** The token endpoint's answer (docs/oauth.md#token-response). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | string;
  expires_in: number;
  scope: string;
  /** The member's Patient id (absent for a plan that puts it only in the id_token). */
  patient?: string;
  refresh_token?: string;
  id_token?: string;
  [field: string]: unknown;
}

export interface Member {
  member_id: string;
  patient_id: string;
  given: string;
  family: string;
  birth_date: string | null;
  postal_code: string;
}

export interface Plan {
  id: string;
  aliases: string[];
  name: string;
  default: boolean;
  issuer: string;
  fhir_base: string;
  authorize: string;
  members: Member[];
  profile: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ClockState {
  /** RFC 3339. */
  now: string;
  offset_seconds: number;
}

export type FaultTarget = 'token' | 'authorize' | 'register' | 'introspect' | 'revoke' | 'userinfo' | 'discovery' | 'fhir' | 'any';
export type IdTokenFlaw = 'wrong_key' | 'wrong_iss' | 'wrong_aud' | 'wrong_nonce' | 'expired' | 'alg_none';

/** A fault to inject (docs/sandbox-tools.md#faults). At least one of error, status, delay_ms, delay_after_ms, id_token. */
export interface FaultSpec {
  target: FaultTarget;
  path?: string;
  method?: string;
  client_id?: string;
  plan?: string;
  /** An RFC 6749 error code (OAuth targets only). */
  error?: string;
  error_description?: string;
  /** 400 to 599. */
  status?: number;
  /** Seconds for a Retry-After header. */
  retry_after?: number;
  delay_ms?: number;
  delay_after_ms?: number;
  id_token?: IdTokenFlaw;
  /** How many matching requests it fires for (default 1). */
  count?: number;
}

export interface Fault extends FaultSpec {
  id: number;
  count: number;
  remaining: number;
}

/** One entry of the request log (docs/sandbox-tools.md#request-log). */
export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: string;
  client_id: string | null;
  status: number;
  duration_ms: number;
  plan?: string;
  grant_type?: string;
  client_auth?: string;
  retry_after?: number;
  fault?: number;
  id_token_flaw?: IdTokenFlaw;
  followed_next?: boolean;
  client_gone?: boolean;
  [field: string]: unknown;
}

export interface ReportCheck {
  status: 'met' | 'not_met' | 'not_applicable';
  expectation: string;
  detail: string;
  /** The `seq` of each request that broke it. */
  offending?: number[];
}

/** The report (docs/sandbox-tools.md#report). */
export interface Report {
  client_id: string | null;
  checks: Record<string, ReportCheck>;
  [field: string]: unknown;
}

export interface FhirResponse<T = any> {
  status: number;
  ok: boolean;
  headers: Headers;
  /** The body parsed as JSON when it is JSON, else its text; null when empty. */
  body: T;
  url: string;
}

export interface ExitStatus {
  code: number | null;
  /** The signal's name, e.g. 'SIGKILL'. */
  signal: string | null;
}

export declare class Sandbox {
  private constructor();
  /** The server's public URL, e.g. `http://127.0.0.1:41234`, no trailing slash. */
  readonly url: string;
  /** The default plan's FHIR base, `${url}/r4`. */
  readonly fhirBase: string;
  /** The server's process id. */
  readonly pid: number;
  /** Whether the server process is still running. */
  readonly running: boolean;
  /** Resolves when the server process has exited, however it ended. */
  readonly exited: Promise<ExitStatus>;

  /** The test members of the default plan, or of another. */
  members(options?: { plan?: string }): Promise<Member[]>;
  /** Every plan of the network, the default first. */
  plans(): Promise<Plan[]>;
  /** Headless sign-in: headless authorize (with PKCE S256), then the code exchange at /oauth2/token. */
  login(memberId: string, options?: LoginOptions): Promise<TokenResponse>;
  /** A refresh token grant; pass the refresh token or the token response holding it. */
  refresh(refreshToken: string | TokenResponse, options?: RefreshOptions): Promise<TokenResponse>;
  /**
   * A FHIR request with a bearer token (a string or a token response). `path` is relative to
   * the FHIR base, or an absolute URL. Never rejects on an HTTP error status.
   */
  fhir<T = any>(path: string, token?: string | TokenResponse | null, init?: RequestInit): Promise<FhirResponse<T>>;

  readonly clock: {
    now(): Promise<ClockState>;
    /** Moves the sandbox clock forward (a non-negative whole number of seconds). */
    advance(seconds: number): Promise<ClockState>;
    /** Back to the wall clock; also puts the data back as loaded. */
    reset(): Promise<ClockState>;
  };

  readonly faults: {
    add(fault: FaultSpec): Promise<Fault>;
    list(): Promise<Fault[]>;
    /** Resolves with how many were removed (1); rejects if the fault is not active. */
    remove(id: number): Promise<number>;
    /** Resolves with how many were removed. */
    clear(): Promise<number>;
  };

  /** The request log, oldest first, optionally one client's or under a path prefix. */
  requests(filter?: { clientId?: string; path?: string }): Promise<RequestLogEntry[]>;
  /** Empties the request log; resolves with how many entries went. */
  clearRequests(): Promise<number>;
  /** The report as JSON, or as JUnit XML text with `format: 'junit'`. */
  report(options: { clientId?: string; format: 'junit' }): Promise<string>;
  report(options?: { clientId?: string; format?: 'json' }): Promise<Report>;
  /** Revokes every access and refresh token issued for the member. */
  expireGrants(memberId: string, options?: { plan?: string }): Promise<{ member_id: string; revoked: number }>;
  /** Forgets codes, tokens, faults, the request log, the clock offset, data changes; apps stay. */
  reset(): Promise<{ reset: true }>;
  /** Any control API request: `api('POST', 'keys/rotate')`, `api('GET', 'outbox')`. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** What the server printed (standard output and error), the newest `logLimit` characters. */
  log(): string;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process has exited. */
  stop(options?: { timeoutMs?: number }): Promise<ExitStatus>;
}

/** An error answer from the control API or the token endpoint. */
export declare class SandboxError extends Error {
  readonly status: number;
  /** The answer's body: JSON `{error, error_description}` for OAuth and control API errors. */
  readonly body: unknown;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly method: string;
  readonly url: string;
}

/** No binary for this platform: the platform package is missing or PAYER_SANDBOX_BIN is wrong. */
export declare class BinaryNotFoundError extends Error {
  readonly code: 'PAYER_SANDBOX_BINARY_NOT_FOUND';
}

/** Starts payer-sandbox and resolves once it accepts connections. */
export declare function startSandbox(options?: StartOptions): Promise<Sandbox>;

/** The path of the binary startSandbox() and `npx payer-sandbox` run. */
export declare function findBinary(env?: Record<string, string | undefined>): string;
