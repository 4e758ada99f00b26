//! The network of plans (docs/plans.md): each plan's URLs and discovery, the brands Bundle, a
//! token bound to its plan, the person who is a member of two plans seeing each plan's data
//! only, the sign-in pages of another plan, the control API and faults that name a plan, and
//! the plans file.

use serde_json::{Value, json};

use crate::helpers::{
    Auth, CASCADE_SCOPE, JASON, LAKESHORE_SCOPE, TestApp, hidden_input, plans_file, spawn_app,
    spawn_with,
};

#[tokio::test]
async fn each_plan_has_its_own_discovery_documents_and_keys() {
    let app = spawn_app().await;
    let cascade: Value = app
        .get_json("/plans/cascade/.well-known/smart-configuration")
        .await;
    let issuer = app.at("/plans/cascade");
    assert_eq!(cascade["issuer"], issuer.as_str());
    assert_eq!(
        cascade["authorization_endpoint"],
        app.at("/oauth2/authorize/cascade").as_str()
    );
    assert_eq!(
        cascade["token_endpoint"],
        app.at("/oauth2/token").as_str(),
        "the token endpoint is shared"
    );
    assert_eq!(
        cascade["jwks_uri"],
        app.at("/plans/cascade/.well-known/jwks.json").as_str()
    );
    assert_eq!(
        cascade["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "private_key_jwt", "none"])
    );
    let scopes: Vec<&str> = cascade["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(scopes.contains(&"patient/*.rs") && !scopes.contains(&"patient/*.read"));
    let under_fhir: Value = app
        .get_json("/plans/cascade/r4/.well-known/smart-configuration")
        .await;
    assert_eq!(under_fhir, cascade);
    let openid: Value = app
        .get_json("/plans/cascade/.well-known/openid-configuration")
        .await;
    assert_eq!(openid["issuer"], issuer.as_str());

    // Three plans, three keys.
    let mut kids = Vec::new();
    for path in [
        "/.well-known/jwks.json",
        "/plans/cascade/.well-known/jwks.json",
        "/plans/lakeshore/.well-known/jwks.json",
    ] {
        let jwks: Value = app.get_json(path).await;
        kids.push(jwks["keys"][0]["kid"].as_str().unwrap().to_owned());
    }
    kids.dedup();
    assert_eq!(kids.len(), 3, "{kids:?}");

    let metadata: Value = app.get_json("/plans/lakeshore/r4/metadata").await;
    assert_eq!(
        metadata["implementation"]["url"],
        app.at("/plans/lakeshore/r4").as_str()
    );
    // Lakeshore follows no includes: its CapabilityStatement lists none.
    let eob = metadata["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "ExplanationOfBenefit")
        .unwrap();
    assert!(eob.get("searchInclude").is_none(), "{eob}");
    let default: Value = app.get_json("/r4/metadata").await;
    let eob = default["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "ExplanationOfBenefit")
        .unwrap();
    assert!(eob["searchInclude"].as_array().unwrap().len() > 3);
}

#[tokio::test]
async fn the_brands_bundle_lists_every_plan_with_its_logo_and_endpoint() {
    let app = spawn_app().await;
    let smart: Value = app
        .get_json("/plans/lakeshore/.well-known/smart-configuration")
        .await;
    let bundle_url = smart["user_access_brand_bundle"].as_str().unwrap();
    assert_eq!(bundle_url, app.at("/brands.json"));
    let response = app.client.get(bundle_url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let orgs: Vec<&Value> = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Organization")
        .collect();
    let names: Vec<&str> = orgs.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "Demo Health Plan",
            "Cascade Health Alliance",
            "Lakeshore Mutual Health"
        ]
    );
    // Each plan's smart-configuration names its own Brand in the Bundle.
    let lakeshore = orgs
        .iter()
        .find(|o| o["identifier"][0] == smart["user_access_brand_identifier"])
        .expect("the plan's Brand");
    assert_eq!(lakeshore["name"], "Lakeshore Mutual Health");
    let endpoint_ref = lakeshore["endpoint"][0]["reference"].as_str().unwrap();
    let endpoint = entries
        .iter()
        .map(|e| &e["resource"])
        .find(|r| format!("Endpoint/{}", r["id"].as_str().unwrap()) == endpoint_ref)
        .unwrap();
    assert_eq!(endpoint["address"], app.at("/plans/lakeshore/r4").as_str());
    assert_eq!(endpoint["connectionType"]["code"], "hl7-fhir-rest");
    // Every logo is served.
    for org in &orgs {
        let logo = org["extension"][0]["extension"][0]["valueUrl"]
            .as_str()
            .unwrap();
        let response = app.client.get(logo).send().await.unwrap();
        assert_eq!(response.status(), 200, "{logo}");
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert!(response.text().await.unwrap().contains("<svg"));
    }
    let cached = app
        .client
        .get(bundle_url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
}

#[tokio::test]
async fn a_token_is_refused_at_another_plans_endpoints() {
    let app = spawn_app().await;
    let cascade = app.cascade_login("Marisol").await;
    let cascade_token = cascade["access_token"].as_str().unwrap();
    let default_token = app.token(JASON, "patient/*.read").await;

    let ok = app
        .get_with_token("/plans/cascade/r4/Coverage", cascade_token)
        .await;
    assert_eq!(ok.status(), 200);
    for (path, token) in [
        ("/r4/Patient", cascade_token),
        ("/plans/lakeshore/r4/Patient", cascade_token),
        ("/plans/cascade/r4/Patient", default_token.as_str()),
        ("/plans/lakeshore/r4/Patient", default_token.as_str()),
    ] {
        let response = app.get_with_token(path, token).await;
        assert_eq!(response.status(), 401, "{path}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
    // The shared endpoints answer for the token's own plan.
    let userinfo = app.get_with_token("/oauth2/userinfo", cascade_token).await;
    let claims: Value = userinfo.json().await.unwrap();
    assert_eq!(
        claims["fhirUser"],
        app.at(&format!(
            "/plans/cascade/r4/Patient/{}",
            cascade["patient"].as_str().unwrap()
        ))
        .as_str()
    );
    let introspection: Value = app
        .client
        .post(app.at("/oauth2/introspect"))
        .basic_auth("sandbox-app", Some("sandbox-secret"))
        .form(&[("token", cascade_token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["iss"], app.at("/plans/cascade").as_str());
}

#[tokio::test]
async fn id_tokens_are_signed_by_their_plans_key_and_name_its_issuer() {
    let app = spawn_app().await;
    let tokens = app.lakeshore_login("Yesenia").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwks: Value = app.get_json("/plans/lakeshore/.well-known/jwks.json").await;
    let jwk = &jwks["keys"][0];
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["sandbox-app"]);
    validation.set_issuer(&[app.at("/plans/lakeshore").as_str()]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    assert!(
        claims["fhirUser"]
            .as_str()
            .unwrap()
            .starts_with(&app.at("/plans/lakeshore/r4/Patient/"))
    );
    // The default plan's key does not verify it.
    assert!(app.validate_id_token(id_token).await.is_err());
}

/// The insurers of the claims a token's search finds.
async fn insurers(app: &TestApp, base: &str, token: &str) -> std::collections::BTreeSet<String> {
    let bundle: Value = app
        .get_json_with_token(&format!("{base}/ExplanationOfBenefit?_count=50"), token)
        .await;
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "ExplanationOfBenefit")
        .map(|e| {
            e["resource"]["insurer"]["reference"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// Every resource id a token reaches through search and `$everything`.
async fn reachable(app: &TestApp, base: &str, token: &str, patient: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("{base}/Patient/{patient}/$everything?_count=50");
    loop {
        let page: Value = app.get_json_with_token(&path, token).await;
        for entry in page["entry"].as_array().into_iter().flatten() {
            let r = &entry["resource"];
            if r["resourceType"] != "OperationOutcome" {
                ids.push(format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap(),
                    r["id"].as_str().unwrap()
                ));
            }
        }
        match page["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
        {
            Some(next) => {
                let url = next["url"].as_str().unwrap();
                path = url.strip_prefix(app.url.as_str()).unwrap().to_owned();
            }
            None => break,
        }
    }
    ids
}

#[tokio::test]
async fn the_member_of_two_plans_sees_each_plans_data_only() {
    let app = spawn_app().await;
    let at_cascade = app.plan_member("cascade", "Marisol").await;
    let at_lakeshore = app.plan_member("lakeshore", "Marisol").await;
    assert_ne!(at_cascade, at_lakeshore, "two member IDs");
    let cascade = app
        .plan_login("cascade", &at_cascade, CASCADE_SCOPE, Auth::Basic)
        .await;
    // Lakeshore gives the patient id only in the id_token.
    let lakeshore = app
        .plan_login("lakeshore", &at_lakeshore, LAKESHORE_SCOPE, Auth::Body)
        .await;
    let cascade_patient = cascade["patient"].as_str().unwrap().to_owned();
    let lakeshore_patient = crate::plans_profiles::fhir_user_patient(&lakeshore);
    assert_ne!(cascade_patient, lakeshore_patient);

    let cascade_ids = reachable(
        &app,
        "/plans/cascade/r4",
        cascade["access_token"].as_str().unwrap(),
        &cascade_patient,
    )
    .await;
    let lakeshore_ids = reachable(
        &app,
        "/plans/lakeshore/r4",
        lakeshore["access_token"].as_str().unwrap(),
        &lakeshore_patient,
    )
    .await;
    assert!(
        cascade_ids
            .iter()
            .any(|i| i.starts_with("ExplanationOfBenefit/"))
    );
    assert!(
        lakeshore_ids
            .iter()
            .any(|i| i.starts_with("ExplanationOfBenefit/"))
    );
    for id in &cascade_ids {
        assert!(!lakeshore_ids.contains(id), "{id} reached in both plans");
    }
    // Each plan's claims are its own: the same person, two insurers.
    let cascade_insurers = insurers(
        &app,
        "/plans/cascade/r4",
        cascade["access_token"].as_str().unwrap(),
    )
    .await;
    let lakeshore_insurers = insurers(
        &app,
        "/plans/lakeshore/r4",
        lakeshore["access_token"].as_str().unwrap(),
    )
    .await;
    assert!(cascade_insurers.is_disjoint(&lakeshore_insurers));
    // A member ID of one plan is not a member of another.
    let refused = app
        .post_json(
            "/sandbox/api/authorize",
            json!({"plan": "lakeshore", "client_id": "sandbox-app", "member_id": at_cascade}),
        )
        .await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn another_plans_sign_in_pages_are_branded_and_issue_its_codes() {
    let app = spawn_app().await;
    let member: Value = {
        let plans: Vec<Value> =
            serde_json::from_value(app.get_json("/sandbox/api/plans").await).unwrap();
        plans.iter().find(|p| p["id"] == "lakeshore").unwrap()["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["given"] == "Yesenia")
            .unwrap()
            .clone()
    };
    let response = app
        .get("/oauth2/authorize/lakeshore?client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=patient/*.read&state=s1")
        .await;
    assert_eq!(response.status(), 303);
    let start = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(start.starts_with("/oauth2/login/lakeshore."), "{start}");
    let page = app.get(&start).await.text().await.unwrap();
    assert!(
        page.contains("Sign in to Lakeshore Mutual Health"),
        "{page}"
    );
    assert!(page.contains("/brands/lakeshore/logo"));
    // The colour comes in a stylesheet of the plan's, which the pages' CSP allows.
    assert!(page.contains("href=\"/brands/lakeshore/style.css\""));
    let css = app.get("/brands/lakeshore/style.css").await;
    assert_eq!(css.headers()["content-type"], "text/css");
    assert!(css.text().await.unwrap().contains("--brand: #1e3a8a"));
    let verify = app
        .create_account_on(&start, &member, "yesenia@example.com")
        .await;
    let outbox: Vec<Value> = app.get_json("/sandbox/api/outbox").await;
    let email = outbox.last().unwrap();
    assert_eq!(email["plan"], "lakeshore");
    let code = email["code"].as_str().unwrap();
    let form = app.get(&verify).await.text().await.unwrap();
    let csrf = hidden_input(&form, "csrf_token").unwrap();
    let response = app
        .post_form(&verify, &[("csrf_token", &csrf), ("code", code)])
        .await;
    assert_eq!(response.status(), 303);
    let consent = response.headers()["location"].to_str().unwrap().to_owned();
    let form = app.get(&consent).await.text().await.unwrap();
    assert!(form.contains("Lakeshore Mutual Health"));
    let csrf = hidden_input(&form, "csrf_token").unwrap();
    let response = app
        .post_form(&consent, &[("csrf_token", &csrf), ("decision", "allow")])
        .await;
    assert_eq!(response.status(), 302);
    let redirect = response.headers()["location"].to_str().unwrap();
    let code = crate::helpers::query_param(redirect, "code").unwrap();
    let tokens: Value = app.exchange_code(&code).await.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_with_token("/plans/lakeshore/r4/Coverage", token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_with_token("/r4/Coverage", token).await.status(),
        401
    );
    // The request log keeps the URLs the browser used.
    let log: Vec<Value> = app.get_json("/sandbox/api/requests").await;
    let paths: Vec<&str> = log.iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(paths.contains(&"/oauth2/authorize/lakeshore"), "{paths:?}");
    // Each entry of another plan names it; the shared token endpoint's, by the code's plan.
    let plans: Vec<(&str, &str)> = log
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap(),
                r["plan"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert!(plans.contains(&("/oauth2/token", "lakeshore")), "{plans:?}");
    assert!(
        plans.contains(&("/plans/lakeshore/r4/Coverage", "lakeshore")),
        "{plans:?}"
    );
    assert!(
        plans.contains(&("/r4/Coverage", "-")),
        "the default plan's: {plans:?}"
    );
}

#[tokio::test]
async fn the_control_api_knows_the_plans() {
    let app = spawn_app().await;
    let plans: Vec<Value> =
        serde_json::from_value(app.get_json("/sandbox/api/plans").await).unwrap();
    let ids: Vec<&str> = plans.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["test", "cascade", "lakeshore"]);
    assert_eq!(plans[0]["aliases"], json!(["demoplan"]));
    assert_eq!(plans[1]["profile"]["refresh-tokens"], "rotating");
    // The default plan's members, unchanged; another plan's by ?plan=.
    let default = app.members().await;
    assert_eq!(default[0]["member_id"], JASON);
    let lakeshore: Vec<Value> = app.get_json("/sandbox/api/members?plan=lakeshore").await;
    assert_eq!(lakeshore, plans[2]["members"].as_array().unwrap().clone());
    assert_eq!(
        app.get("/sandbox/api/members?plan=nope").await.status(),
        404
    );
    // Keys are per plan.
    let before: Value = app.get_json("/sandbox/api/keys?plan=cascade").await;
    let rotated: Value = app
        .post_json("/sandbox/api/keys/rotate?plan=cascade", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(before["kid"], rotated["kid"]);
    let default_keys: Value = app.get_json("/sandbox/api/keys").await;
    assert_eq!(default_keys["jwks_kids"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_fault_can_target_one_plan() {
    let app = spawn_app().await;
    let created = app
        .post_json(
            "/sandbox/api/faults",
            json!({"target": "fhir", "plan": "cascade", "status": 503, "count": 5}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let default_token = app.token(JASON, "patient/*.read").await;
    assert_eq!(
        app.get_with_token("/r4/Coverage", &default_token)
            .await
            .status(),
        200
    );
    let member = app.plan_member("cascade", "Gunnar").await;
    let tokens = app
        .plan_login("cascade", &member, CASCADE_SCOPE, Auth::Basic)
        .await;
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_with_token("/plans/cascade/r4/Coverage", token)
            .await
            .status(),
        503
    );
    // A token-endpoint fault of one plan fires on its codes only.
    app.post_json(
        "/sandbox/api/faults",
        json!({"target": "token", "plan": "lakeshore", "error": "temporarily_unavailable", "status": 503}),
    )
    .await;
    let (code, verifier) = app.plan_code("cascade", &member, CASCADE_SCOPE).await;
    assert_eq!(
        app.plan_exchange(&code, &verifier, Auth::Basic)
            .await
            .status(),
        200
    );
    let lake = app.plan_member("lakeshore", "Yesenia").await;
    let (code, verifier) = app.plan_code("lakeshore", &lake, LAKESHORE_SCOPE).await;
    assert_eq!(
        app.plan_exchange(&code, &verifier, Auth::Body)
            .await
            .status(),
        503
    );
    let unknown = app
        .post_json(
            "/sandbox/api/faults",
            json!({"target": "fhir", "plan": "nope", "status": 503}),
        )
        .await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn a_plans_file_defines_the_network_and_its_errors_name_the_line() {
    let file = plans_file(
        "acme",
        "[[plan]]\nid = \"acme\"\nname = \"Acme Health\"\ndata = {data}\n\n[plan.profile]\nrefresh-tokens = \"single-use\"\n",
    );
    let dir = file.parent().unwrap().to_owned();
    let path = file.clone();
    let app = spawn_with(move |s| s.plans = Some(path)).await;
    let plans: Vec<Value> =
        serde_json::from_value(app.get_json("/sandbox/api/plans").await).unwrap();
    let ids: Vec<&str> = plans.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["test", "acme"]);
    // No logo file: the plan's initials.
    let logo = app.get("/brands/acme/logo").await.text().await.unwrap();
    assert!(logo.contains(">AH<"), "{logo}");

    std::fs::write(
        &file,
        "[[plan]]\nid = \"acme\"\nname = \"Acme\"\ndata = \".\"\n\n[plan.profile]\npage-size = 0\n",
    )
    .unwrap();
    let mut settings = payer_sandbox::settings::Settings::for_tests();
    settings.plans = Some(file.clone());
    let error = payer_sandbox::startup::Application::build(settings)
        .await
        .err()
        .expect("a bad plans file stops start-up")
        .to_string();
    assert!(
        error.contains("plans.toml: line 1") && error.contains("page-size"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_empty_plans_file_serves_the_default_plan_alone() {
    let file = plans_file("none", "# the default plan only\n");
    let dir = file.parent().unwrap().to_owned();
    let path = file.clone();
    let app = spawn_with(move |s| s.plans = Some(path)).await;
    assert_eq!(app.get("/plans/cascade/r4/metadata").await.status(), 404);
    let bundle: Value = app.get_json("/brands.json").await;
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn each_plan_serves_its_own_directory_and_formulary() {
    let app = spawn_app().await;
    let directory: Value = app
        .get_json("/plans/cascade/directory/r4/Practitioner?_count=5")
        .await;
    assert_eq!(directory["resourceType"], "Bundle");
    let cascade_ids: Vec<&str> = directory["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["id"].as_str())
        .collect();
    assert!(!cascade_ids.is_empty());
    let default: Value = app.get_json("/directory/r4/Practitioner?_count=500").await;
    let default_ids: Vec<&str> = default["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["id"].as_str())
        .collect();
    assert!(cascade_ids.iter().all(|id| !default_ids.contains(id)));
    assert!(
        directory["link"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&app.at("/plans/cascade/directory/r4/"))
    );
    let formulary = app
        .get("/plans/cascade/formulary/r4/MedicationKnowledge?_count=1")
        .await;
    assert_eq!(formulary.status(), 200);
    // Lakeshore publishes no formulary: its formulary base answers an empty search.
    let none: Value = app
        .get_json("/plans/lakeshore/formulary/r4/MedicationKnowledge")
        .await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn email_links_of_another_plan_survive_a_restart_under_its_id() {
    let dir = std::env::temp_dir().join(format!("payer-sandbox-plan-state-{}", std::process::id()));
    let state_dir = dir.clone();
    let app = spawn_with(move |s| s.state_dir = Some(state_dir)).await;
    let member = app.plan_member("cascade", "Theo").await;
    let plans: Vec<Value> =
        serde_json::from_value(app.get_json("/sandbox/api/plans").await).unwrap();
    let theo = plans[1]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member_id"] == member.as_str())
        .unwrap()
        .clone();
    let start = cascade_sign_in(&app).await;
    let verify = app
        .create_account_on(&start, &theo, "theo@example.com")
        .await;
    let code = app.last_email_code("theo@example.com").await;
    let form = app.get(&verify).await.text().await.unwrap();
    let csrf = hidden_input(&form, "csrf_token").unwrap();
    let response = app
        .post_form(&verify, &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(response.status(), 303);
    let saved = std::fs::read_to_string(dir.join("state.json")).unwrap();
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        saved["plans"]["cascade"]["email_links"]["theo@example.com"],
        member.as_str()
    );
    assert!(
        saved["email_links"].get("theo@example.com").is_none(),
        "not the default plan's"
    );

    // After a restart, the email is an account at Cascade, and still none at the default plan.
    let state_dir = dir.clone();
    let again = spawn_with(move |s| s.state_dir = Some(state_dir)).await;
    let start = cascade_sign_in(&again).await;
    let sign_in = format!("{start}/signin");
    let form = again.get(&sign_in).await.text().await.unwrap();
    let csrf = hidden_input(&form, "csrf_token").unwrap();
    let known = again
        .post_form(
            &sign_in,
            &[("csrf_token", &csrf), ("email", "theo@example.com")],
        )
        .await;
    assert_eq!(known.status(), 303, "the link was restored");
    let default = crate::helpers::Attempt::for_sandbox_app(&again).await;
    assert_ne!(default.sign_in("theo@example.com").await.status(), 303);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A sign-in attempt at Cascade (aud, PKCE and launch/patient, as it requires): its first page.
async fn cascade_sign_in(app: &TestApp) -> String {
    let (_, challenge) = crate::helpers::pkce();
    let response = app
        .get(&format!(
            "/oauth2/authorize/cascade?client_id=sandbox-app&redirect_uri=http://localhost/cb&scope=launch/patient%20patient/*.rs&aud={}&code_challenge={challenge}&code_challenge_method=S256",
            app.at("/plans/cascade/r4")
        ))
        .await;
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_landing_and_sandbox_pages_list_every_plan_with_its_members() {
    let app = spawn_app().await;
    let gunnar = app.plan_member("cascade", "Gunnar").await;
    for page in ["/", "/sandbox"] {
        let html = app.get(page).await.text().await.unwrap();
        assert!(html.contains("Cascade Health Alliance"), "{page}");
        assert!(html.contains("Lakeshore Mutual Health"), "{page}");
        assert!(html.contains(&gunnar), "{page}");
        assert!(
            html.contains(&app.at("/oauth2/authorize/cascade")),
            "{page}"
        );
    }
}
