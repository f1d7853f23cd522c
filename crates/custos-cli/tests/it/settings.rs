//! P0-5, S-2 over real HTTP against `custos serve` with the bundled Plumsense
//! policy (issue 13.3): the GPS setting is recorded subject state, visible with
//! the consents; switching it off stops collection at once, and a write cannot
//! switch it back on.

use super::{Server, tempdir};

fn json(reply: &str) -> serde_json::Value {
    serde_json::from_str(reply).unwrap()
}

#[test]
fn a_setting_switched_off_stops_collection_at_once_and_is_shown_with_the_consents() {
    let data = tempdir().join("data");
    let mut server = Server::spawn(&data, &["--policy", "policies/plumsense.toml"]);
    let admin = server.admin_key();
    let location = |settings: &str| {
        format!(
            r#"{{"records":[{{"category":"user.location.precise","value":"48.85,2.35","purpose":"health_product_monitoring","source":"device"}}]{settings}}}"#
        )
    };
    let (status, reply) = server.call(
        "POST",
        "/v1/subjects",
        Some(&admin),
        Some(&location(r#","settings":{"gps_enabled":true}"#)),
    );
    assert_eq!(status, 201, "{reply}");
    let subject = json(&reply)["subject"].as_str().unwrap().to_owned();
    let records = format!("/v1/subjects/{subject}/records");
    let (status, reply) = server.call("POST", &records, Some(&admin), Some(&location("")));
    assert_eq!(status, 201, "recorded, not re-sent: {reply}");

    let (status, reply) = server.call(
        "POST",
        &format!("/v1/subjects/{subject}/settings"),
        Some(&admin),
        Some(r#"{"name":"gps_enabled","on":false,"channel":"app"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    for settings in ["", r#","settings":{"gps_enabled":true}"#] {
        let (status, reply) =
            server.call("POST", &records, Some(&admin), Some(&location(settings)));
        assert_eq!(status, 422, "{reply}");
        assert_eq!(json(&reply)["errors"][0]["code"], "VAULT-0182", "{reply}");
    }
    let (status, reply) = server.call(
        "GET",
        &format!("/v1/subjects/{subject}/consents"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{reply}");
    let gps = json(&reply)["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "gps_enabled")
        .cloned()
        .unwrap();
    assert_eq!(gps["on"], false, "{reply}");
    assert_eq!(gps["recorded_by"], "admin", "{reply}");

    let (status, reply) = server.call(
        "POST",
        &format!("/v1/subjects/{subject}/settings"),
        Some(&admin),
        Some(r#"{"name":"no_such_switch","on":true,"channel":"app"}"#),
    );
    assert_eq!(status, 422, "{reply}");
    assert_eq!(json(&reply)["errors"][0]["code"], "VAULT-0208", "{reply}");
}
