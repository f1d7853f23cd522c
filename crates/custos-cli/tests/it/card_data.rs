//! P0-2, P17-4, P17-14 over real HTTP against `custos serve` with the bundled
//! PLUME policy: card numbers in disguise, security codes next to their labels
//! and expiry dates next to a card are refused with 422 on every write path
//! (create, add, rectify), nothing is stored (the export shows none of it), and
//! ordinary numbers in free text are accepted.

use super::{Server, tempdir};

/// (free text, the code it must be refused with)
const REFUSED: &[(&str, &str)] = &[
    ("pay me back on 4111.1111.1111.1111 please", "VAULT-0103"),
    ("card 4111_1111_1111_1111", "VAULT-0103"),
    ("card 4111\\n1111\\n1111\\n1111", "VAULT-0103"),
    ("card ４１１１ １１１１ １１１１ １１１１", "VAULT-0103"),
    (
        "card 4111\u{200B}1111\u{200B}1111\u{200B}1111",
        "VAULT-0103",
    ),
    ("card \u{202E}5555 5555 5555 4444\u{202C}", "VAULT-0103"),
    ("qty 2, 3782 822463 10005", "VAULT-0103"),
    ("my CVV is 738", "VAULT-0286"),
    ("code de sécurité : 738", "VAULT-0286"),
    ("Kartenprüfnummer 0738", "VAULT-0286"),
    ("ＣＶＣ：７３８", "VAULT-0286"),
    ("**** **** **** 1111 exp 12/29", "VAULT-0287"),
];

/// Free text with dates, phone numbers, an IBAN, order references and
/// tracking numbers: accepted as it is (P17-14).
const ACCEPTED: &str = "Order CMD-2026-004512 of 05/12/2026, returned 06/12/2026; \
    call 06 12 34 56 78 / 07 98 76 54 32; refund to FR76 3000 6000 0112 3456 7890 189; \
    parcel USPS 9400 1118 9922 3397 4863 21, UPS 1Z999AA10123456784";

fn code_of(reply: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(reply).unwrap();
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn card_data_in_any_disguise_is_refused_on_every_write_path_and_nothing_is_kept() {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();

    let create = format!(
        r#"{{"records":[{{"category":"user.name","value":"Camille Martin","purpose":"account"}},
            {{"category":"user.account.profile","value":"{ACCEPTED}","purpose":"account"}}]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&create));
    assert_eq!(status, 201, "ordinary numbers are not card data: {reply}");
    let written: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let subject = written["subject"].as_str().unwrap().to_owned();
    let profile = written["records"][1].as_str().unwrap().to_owned();

    for (value, code) in REFUSED {
        let record = format!(
            r#"{{"category":"user.account.profile","value":"{value}","purpose":"account"}}"#
        );
        // Create.
        let body = format!(
            r#"{{"records":[{{"category":"user.name","value":"Camille Martin","purpose":"account"}},{record}]}}"#
        );
        let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
        assert_eq!(status, 422, "create {value:?}: {reply}");
        assert!(
            code_of(&reply).iter().any(|c| c == code),
            "create {value:?}: {reply}"
        );
        // Add a record.
        let body = format!(r#"{{"records":[{record}]}}"#);
        let path = format!("/v1/subjects/{subject}/records");
        let (status, reply) = server.call("POST", &path, Some(&admin), Some(&body));
        assert_eq!(status, 422, "add {value:?}: {reply}");
        assert!(
            code_of(&reply).iter().any(|c| c == code),
            "add {value:?}: {reply}"
        );
        // Rectify.
        let body = format!(r#"{{"value":"{value}"}}"#);
        let path = format!("/v1/subjects/{subject}/records/{profile}");
        let (status, reply) = server.call("PATCH", &path, Some(&admin), Some(&body));
        assert_eq!(status, 422, "rectify {value:?}: {reply}");
        assert!(
            code_of(&reply).iter().any(|c| c == code),
            "rectify {value:?}: {reply}"
        );
        // Refusals never suggest keeping more than the payment provider's reference.
        assert!(!reply.contains("last four"), "{reply}");
        // The request id is random hex and may contain any digits; only the
        // words the server chose to say count.
        let mut said: serde_json::Value = serde_json::from_str(&reply).unwrap();
        said.as_object_mut().unwrap().remove("request_id");
        let said = said.to_string();
        for echoed in ["1111", "１１１１", "738", "5555", "12/29"] {
            assert!(!said.contains(echoed), "`{echoed}` echoed: {reply}");
        }
    }

    // Nothing of it was kept: the export holds the accepted text only.
    let (status, export) = server.call(
        "GET",
        &format!("/v1/subjects/{subject}/export"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{export}");
    assert!(export.contains("CMD-2026-004512"), "{export}");
    let v: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(v["records"].as_array().map(Vec::len), Some(2), "{export}");
    for kept in [
        "pay me",
        "card ",
        "qty 2",
        "CVV",
        "sécurité",
        "Kartenprüfnummer",
        "ＣＶＣ",
        "****",
        "4111",
        "１１１１",
    ] {
        assert!(!export.contains(kept), "`{kept}` kept: {export}");
    }
    server.stop();
}
