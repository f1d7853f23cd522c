//! L-11 over real HTTP against `custos serve` with the bundled Ploomes policy:
//! "we'll let you know before the call that it will be recorded" — a recording is
//! kept only after the notice actually given was recorded (its text required) and
//! while the person has not refused; the refusal stops the next recording.

use super::{Server, tempdir};

fn code(reply: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(reply).unwrap();
    v["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn l_11_a_call_is_recorded_only_after_a_notice_the_person_did_not_refuse() {
    let data = tempdir().join("data");
    let mut server = Server::spawn(&data, &["--policy", "policies/ploomes.toml"]);
    let admin = server.admin_key();
    let (status, reply) = server.call(
        "POST",
        "/v1/subjects",
        Some(&admin),
        Some(
            r#"{"records":[{"category":"user.name","value":"João Silva","purpose":"service_communications"},
            {"category":"user.demographic.age_attestation","value":true,"purpose":"service_communications"}]}"#,
        ),
    );
    assert_eq!(status, 201, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let subject = v["subject"].as_str().unwrap().to_owned();
    let records = format!("/v1/subjects/{subject}/records");
    let consents = format!("/v1/subjects/{subject}/consents");
    let recording = r#"{"records":[{"category":"user.content.call_recording","value":"demo of the pipeline view","purpose":"call_recording"}]}"#;

    let (status, reply) = server.call("POST", &records, Some(&admin), Some(recording));
    assert_eq!(
        (status, code(&reply)),
        (422, "VAULT-0206".into()),
        "{reply}"
    );

    let told = r#"{"purpose":"call_recording","action":"grant","channel":"phone"}"#;
    let (status, reply) = server.call("POST", &consents, Some(&admin), Some(told));
    assert_eq!(
        (status, code(&reply)),
        (422, "VAULT-0205".into()),
        "{reply}"
    );
    let told = r#"{"purpose":"call_recording","action":"grant","channel":"phone","notice_text":"This call will be recorded. Tell us if you refuse."}"#;
    let (status, reply) = server.call("POST", &consents, Some(&admin), Some(told));
    assert_eq!(status, 201, "{reply}");
    let (status, reply) = server.call("POST", &records, Some(&admin), Some(recording));
    assert_eq!(status, 201, "{reply}");

    let refused = r#"{"purpose":"call_recording","action":"withdraw","channel":"email"}"#;
    let (status, reply) = server.call("POST", &consents, Some(&admin), Some(refused));
    assert_eq!(status, 201, "{reply}");
    let (status, reply) = server.call("POST", &records, Some(&admin), Some(recording));
    assert_eq!(
        (status, code(&reply)),
        (422, "VAULT-0206".into()),
        "{reply}"
    );
}
