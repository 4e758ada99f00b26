"""The package's own tests: they use the installed package and its plugin, as a user would.

test.sh runs them against the wheel installed into a fresh virtualenv, with
PAYER_SANDBOX_EXPECT_INSTALLED=1 so that a run that picked up a source tree instead fails
(test_installed.py). The pytester plugin (for the plugin's tests) is enabled in pyproject.toml.
"""
