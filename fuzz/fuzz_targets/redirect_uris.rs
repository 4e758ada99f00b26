//! Redirect URIs: whatever registration accepts is an absolute http(s) URL without a fragment,
//! and an app only accepts its own registered URI (or a loopback port variant of it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use payer_sandbox::oauth::apps::{App, check_redirect_uri};

fuzz_target!(|data: (&str, &str)| {
    let (registered, candidate) = data;
    if check_redirect_uri(registered, false).is_err() {
        return;
    }
    assert!(!registered.contains('#'));
    let app = App {
        client_id: "c".into(),
        client_secret: None,
        name: "n".into(),
        redirect_uris: vec![registered.to_owned()],
        public: true,
        scopes: None,
        builtin: false,
    };
    if app.accepts_redirect(candidate) && candidate != registered {
        let url = url::Url::parse(candidate).expect("accepted redirects parse");
        assert!(matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")), "{registered:?} accepted {candidate:?}");
    }
});
