//! The OpenAPI 3.1 document served at `/v1/openapi.json`.
//!
//! Written out rather than derived: the API is small, the document is reviewed as
//! one piece, and a test checks that every route of the router is described here
//! (and nothing else is), so the two cannot drift.

use serde_json::{Value, json};

fn problem_ref() -> Value {
    json!({ "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn errors(codes: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for c in codes {
        let description = match *c {
            "400" => "Malformed request (bad JSON, bad id, missing purpose)",
            "401" => "Missing, unknown or revoked API key",
            "403" => "The key's role or scope does not allow this",
            "404" => "No such subject in this tenant",
            "410" => "The subject was erased",
            "413" => "Body larger than 1 MiB",
            "415" => "Body is not JSON",
            "422" => {
                "The request breaks the policy or the value rules; `errors` lists every problem"
            }
            "429" => "Rate limit reached; see Retry-After",
            _ => "Error",
        };
        let mut r = problem_ref();
        if let Some(o) = r.as_object_mut() {
            o.insert("description".into(), json!(description));
        }
        out.insert((*c).to_owned(), r);
    }
    Value::Object(out)
}

fn ok(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" }, "description": "Subject id" })
}

fn idempotency_param() -> Value {
    json!({ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 128 },
            "description": "Replays of the same key and body return the first answer (200, `Idempotent-Replayed: true`); the same key with another body is refused (422)." })
}

/// The whole document.
pub fn document() -> Value {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "custos",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Personal-data vault with purpose-bound access. Every read names a purpose; every decision is audited. Errors are RFC 9457 problem+json with a stable `code`."
        },
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer", "bearerFormat": "ck_<id>.<secret>" } },
            "schemas": schemas()
        },
        "security": [{ "apiKey": [] }],
        "paths": {
            "/healthz": { "get": { "summary": "Liveness and database reachability", "security": [],
                "responses": { "200": { "description": "Up" }, "503": { "description": "Database unavailable" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics (no personal data)", "security": [],
                "responses": { "200": { "description": "Text exposition format" } } } },
            "/v1/openapi.json": { "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/v1/docs": { "get": { "summary": "A readable view of this document", "security": [], "responses": { "200": { "description": "HTML" } } } },
            "/v1/docs.js": { "get": { "summary": "Script of the readable view", "security": [], "responses": { "200": { "description": "JavaScript" } } } },
            "/v1/subjects": { "post": {
                "summary": "Create a subject with its first records",
                "description": "Each value is checked against the policy: its category must exist and be collected by the named purpose, its value must have the category's shape; card numbers (anywhere) and card security codes are refused. Nothing is written unless every record is acceptable.",
                "parameters": [idempotency_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WriteRequest" } } } },
                "responses": with(json!({ "201": ok("Created", "Written"), "200": ok("Replayed idempotent request", "Written") }), errors(&["400", "401", "403", "413", "415", "422", "429"]))
            } },
            "/v1/subjects/{id}": { "get": {
                "summary": "Read a subject's data for a purpose",
                "description": "Returns only the categories the policy gives the caller's role for this purpose, given the subject's consent, objection and restriction; lists every other category held as withheld, with the reason. The read is audited before the answer leaves.",
                "parameters": [id_param(), { "name": "purpose", "in": "query", "required": true, "schema": { "type": "string" } }],
                "responses": with(json!({ "200": ok("The permitted values", "ReadOutcome") }), errors(&["400", "401", "403", "404", "410", "422", "429"]))
            } },
            "/v1/subjects/{id}/records": { "post": {
                "summary": "Add records to a subject",
                "parameters": [id_param(), idempotency_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WriteRequest" } } } },
                "responses": with(json!({ "201": ok("Created", "Written"), "200": ok("Replayed idempotent request", "Written") }), errors(&["400", "401", "403", "404", "410", "413", "415", "422", "429"]))
            } },
            "/v1/subjects/{id}/export": { "get": {
                "summary": "Everything held about a subject, for an access or portability request (admin)",
                "description": "Every record decrypted, with its category, the purpose it was collected for, lawful basis, the purposes that may use it, source, collection time, expiry and retention. Audited.",
                "parameters": [id_param(), { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv"] } }],
                "responses": with(json!({ "200": { "description": "JSON, or CSV (RFC 4180) as an attachment" } }), errors(&["400", "401", "403", "404", "410"]))
            } },
            "/v1/lookup": { "post": {
                "summary": "Find subjects by exact email or phone (blind index)",
                "description": "POST so that the value never appears in a URL or access log.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LookupRequest" } } } },
                "responses": with(json!({ "200": ok("Matching subject ids", "LookupResult") }), errors(&["400", "401", "403", "422", "429"]))
            } },
            "/v1/subjects/{id}/settings": {
                "post": { "summary": "Switch a device or account setting on or off (location permission, the app's connection)",
                    "description": "Settings are recorded subject state with history, shown beside the consents. A category or purpose with `requires_setting` collects (and, for a purpose, reads) only while its setting is on; switching off stops it at once (P0-5, P0-16). Anyone may switch off; switching on is for the person, admin keys, consent relays and the roles of the purposes that depend on it (403 VAULT-0204). An unknown setting is VAULT-0208.",
                    "parameters": [id_param()],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["name", "on", "channel"], "additionalProperties": false, "properties": {
                        "name": { "type": "string", "example": "app_connected" }, "on": { "type": "boolean" },
                        "channel": { "type": "string", "enum": ["web", "app", "email", "email_link", "phone", "paper", "gpc", "operator", "api", "privacy_center"] } } } } } },
                    "responses": with(json!({ "201": { "description": "The setting's state: {name, on, since, recorded_by}" } }), errors(&["400", "401", "403", "404", "422", "429"])) } },
            "/v1/subjects/{id}/consents": {
                "post": { "summary": "Record a consent decision: grant, withdraw, object, lift_objection",
                    "description": "Appends to the consent ledger with the policy version, a hash of the exact notice text shown (custos's own wording of the purpose when none is sent), the channel, a keyed hash of the IP and the user agent. Withdrawal is not retroactive and stops consent-based reads at once; purposes on another lawful basis continue.",
                    "parameters": [id_param()],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ConsentInput" } } } },
                    "responses": with(json!({ "201": ok("The receipt", "ConsentReceipt") }), errors(&["400", "401", "404", "422", "429"])) },
                "get": { "summary": "Export the subject's consent receipts and current state per purpose",
                    "parameters": [id_param()],
                    "responses": with(json!({ "200": { "description": "{subject, current: [...], events: [ConsentReceipt]}" } }), errors(&["400", "401", "404"])) }
            },
            "/v1/subjects/{id}/signals": { "post": {
                "summary": "Record an opt-out preference signal (Global Privacy Control)",
                "description": "`{\"signal\": \"gpc\"}` withdraws consent, on channel `gpc`, to every consent purpose that shares data with a third party.",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["signal"], "properties": { "signal": { "type": "string", "enum": ["gpc"] } } } } } },
                "responses": with(json!({ "200": { "description": "{signal, withdrawn: [purposes]}" } }), errors(&["400", "401", "404"])) } },
            "/v1/subjects/{id}/unsubscribe-tokens": { "post": {
                "summary": "Mint the unsubscribe link for a consent purpose (put it in every marketing message)",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["purpose"], "properties": { "purpose": { "type": "string" } } } } } },
                "responses": with(json!({ "201": { "description": "{token, path}" } }), errors(&["400", "401", "404", "422"])) } },
            "/v1/unsubscribe/{token}": {
                "get": { "summary": "Unsubscribe page (no login; changes nothing)", "security": [],
                    "parameters": [{ "name": "token", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "HTML with a confirm button" }, "404": { "description": "Invalid link" } } },
                "post": { "summary": "Unsubscribe (no login; also RFC 8058 one-click)", "security": [],
                    "parameters": [{ "name": "token", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "HTML confirmation, or the receipt as JSON with Accept: application/json" }, "404": { "description": "Invalid link" } } }
            },
            "/v1/requests": {
                "post": { "summary": "Register a data-subject request (access, rectification, erasure, portability, restriction, objection, consent_withdrawal)",
                    "description": "The due date follows the policy's deadline for the person's jurisdiction; an acknowledgement stating it is queued in the outbox in the same transaction.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewRequest" } } } },
                    "responses": with(json!({ "201": ok("The request with its clock", "RequestView") }), errors(&["400", "401", "404", "422"])) },
                "get": { "summary": "The request queue (admin): open first, soonest deadline first, with overdue and due-soon counts",
                    "responses": with(json!({ "200": { "description": "{overdue, due_soon, requests: [RequestView]}" } }), errors(&["401", "403"])) }
            },
            "/v1/requests/{id}": { "get": { "summary": "One request (admin)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "responses": with(json!({ "200": ok("The request", "RequestView") }), errors(&["400", "401", "403", "404"])) } },
            "/v1/requests/{id}/actions": { "post": { "summary": "Verify, start, fulfil, reject (with reason) or extend (with reason, before the deadline, once) a request (admin)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RequestAction" } } } },
                "responses": with(json!({ "200": ok("The request after the step", "RequestView") }), errors(&["400", "401", "403", "404", "422"])) } },
            "/v1/incidents": {
                "post": { "summary": "Open a breach incident (admin): revokes the keys in scope, computes the affected subjects and categories from the audit log, sets the authority deadline, drafts a notice per person (held while a law-enforcement hold is in force)",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["description", "detected_at", "from", "to"], "properties": {
                        "description": { "type": "string" }, "detected_at": { "type": "string", "format": "date-time" }, "aware_at": { "type": "string", "format": "date-time" },
                        "key_ids": { "type": "array", "items": { "type": "string" } }, "actors": { "type": "array", "items": { "type": "string" } },
                        "from": { "type": "string", "format": "date-time" }, "to": { "type": "string", "format": "date-time" },
                        "categories": { "type": "array", "items": { "type": "string" } }, "law_enforcement_hold": { "type": "string" } } } } } },
                    "responses": with(json!({ "201": { "description": "The incident with affected subjects, deadlines, channels, revoked keys" } }), errors(&["400", "401", "403", "422"])) },
                "get": { "summary": "All incidents (admin)", "responses": with(json!({ "200": { "description": "{incidents: [...]}" } }), errors(&["401", "403"])) }
            },
            "/v1/incidents/{id}": { "get": { "summary": "One incident (admin)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "responses": with(json!({ "200": { "description": "The incident" } }), errors(&["400", "401", "403", "404"])) } },
            "/v1/incidents/{id}/hold": { "delete": { "summary": "Lift the law-enforcement hold (admin): the drafted notices go to the outbox",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "responses": with(json!({ "200": { "description": "The incident" } }), errors(&["400", "401", "403", "404", "422"])) } },
            "/v1/verifications": { "post": {
                "summary": "Send a one-time code to a contact custos holds for the subject",
                "description": "The code goes through the outbox to the subject's stored email or phone (never to an address given in the request); it expires after 10 minutes, allows 5 guesses, and at most 5 codes per subject per hour are sent. Only a keyed hash of the code is stored.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["subject", "category"], "properties": {
                    "subject": { "type": "string", "format": "uuid" }, "category": { "type": "string", "example": "user.contact.email" } } } } } },
                "responses": with(json!({ "201": { "description": "{challenge, category, expires_at}" } }), errors(&["400", "401", "404", "422", "429"])) } },
            "/v1/verifications/{id}/check": { "post": {
                "summary": "Check a one-time code (constant-time)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string", "pattern": "^[0-9]{6}$" } } } } } },
                "responses": with(json!({ "200": { "description": "{verified, subject, attempts_left}" } }), errors(&["400", "401", "404"])) } },
            "/v1/policy": { "get": { "summary": "The policy version in force", "responses": with(json!({ "200": { "description": "Policy summary" } }), errors(&["401"])) } },
            "/v1/policy/notice": { "get": { "summary": "The privacy notice rendered from the policy in force",
                "parameters": [{ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["html", "md"] } }],
                "responses": with(json!({ "200": { "description": "HTML or Markdown" } }), errors(&["400", "401"])) } },
            "/v1/keys": {
                "post": { "summary": "Issue an API key (admin); the token is shown once",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewKey" } } } },
                    "responses": with(json!({ "201": { "description": "The key and its token" } }), errors(&["400", "401", "403", "422"])) },
                "get": { "summary": "List API keys (admin); secrets are never shown again",
                    "responses": with(json!({ "200": { "description": "Keys" } }), errors(&["401", "403"])) }
            },
            "/v1/keys/{id}": { "delete": { "summary": "Revoke an API key (admin)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": with(json!({ "204": { "description": "Revoked" } }), errors(&["401", "403", "422"])) } },
            "/v1/audit/verify": { "get": { "summary": "Verify the tenant's audit hash chain (admin)",
                "responses": with(json!({ "200": { "description": "{valid, entries, head} or {valid: false, error}" } }), errors(&["401", "403"])) } }
        }
    });
    merge(doc.pointer_mut("/paths"), lifecycle_paths());
    merge(doc.pointer_mut("/components/schemas"), lifecycle_schemas());
    merge(doc.pointer_mut("/paths"), retention_paths());
    merge(doc.pointer_mut("/components/schemas"), retention_schemas());
    merge(doc.pointer_mut("/paths"), contract_paths());
    merge(doc.pointer_mut("/components/schemas"), contract_schemas());
    doc
}

fn merge(into: Option<&mut Value>, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.and_then(Value::as_object_mut), from) {
        into.extend(from);
    }
}

/// Retention events and legal holds.
fn retention_paths() -> Value {
    json!({
        "/v1/subjects/{id}/events": { "post": {
            "summary": "Record a retention event for a subject (P0-9, L-6)",
            "description": "Sets the expiry of every record whose category's retention counts from this event to the event's time plus the period; a later event sets it again (each new activity pushes `last_activity` retention later). For `consent_withdrawal`, only records collected for `purpose`. Audited with the event and category names. Only admin keys and roles the policy marks `sends_lifecycle_events` (403 VAULT-0216); `at` must lie between the subject's collection and now plus 5 minutes (422 VAULT-0215), and from a past `at` the clock still counts from now; `last_activity` never moves an expiry earlier (issue 17.2).",
            "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RetentionEvent" } } } },
            "responses": with(json!({ "200": ok("Expiries set", "EventOutcome") }), errors(&["400", "401", "403", "404", "413", "415", "422", "429"]))
        } },
        "/v1/subjects/{id}/legal-holds": { "post": {
            "summary": "Place a legal hold on a subject (admin, P0-17)",
            "description": "Until `until`, the retention sweep leaves the subject's records. The reason is written to the audit log: words, never personal values.",
            "parameters": [id_param()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LegalHoldRequest" } } } },
            "responses": with(json!({ "201": ok("Hold placed", "LegalHold") }), errors(&["400", "401", "403", "404", "413", "415", "422", "429"]))
        } },
        "/v1/subjects/{id}/legal-holds/{hold}": { "delete": {
            "summary": "Lift a legal hold now (admin)",
            "description": "The hold ends now: the sweep proceeds with what is due and reads open again. 422 (VAULT-0192) if the subject has no such hold in force.",
            "parameters": [id_param(), { "name": "hold", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" }, "description": "Hold id" }],
            "responses": with(json!({ "204": { "description": "Lifted" } }), errors(&["400", "401", "403", "422", "429"]))
        } }
    })
}

fn retention_schemas() -> Value {
    json!({
        "RetentionEvent": { "type": "object", "required": ["event"], "additionalProperties": false, "properties": {
            "event": { "type": "string", "enum": ["last_activity", "account_closure", "contract_end", "consent_withdrawal", "purpose_end"] },
            "at": { "type": "string", "format": "date-time", "description": "When it happened; now when absent" },
            "purpose": { "type": "string", "description": "For consent_withdrawal: the withdrawn purpose" } } },
        "EventOutcome": { "type": "object", "properties": {
            "event": { "type": "string" }, "at": { "type": "string", "format": "date-time" },
            "records": { "type": "integer" },
            "expiries": { "type": "array", "items": { "type": "object", "properties": {
                "category": { "type": "string" }, "expires_at": { "type": "string", "format": "date-time" } } } } } },
        "LegalHoldRequest": { "type": "object", "required": ["reason", "until"], "additionalProperties": false, "properties": {
            "reason": { "type": "string", "minLength": 1, "maxLength": 1000 },
            "until": { "type": "string", "format": "date-time" } } },
        "LegalHold": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" }, "subject": { "type": "string", "format": "uuid" },
            "reason": { "type": "string" }, "placed_at": { "type": "string", "format": "date-time" },
            "until": { "type": "string", "format": "date-time" } } }
    })
}

/// Rectification, restriction, erasure and legal holds (kept apart: one `json!`
/// for the whole document would exceed the macro's recursion limit).
fn lifecycle_paths() -> Value {
    json!({
            "/v1/subjects/{id}/records/{record}": { "patch": {
                "summary": "Rectify one record: replace its value (P0-11)",
                "description": "Validated exactly as a write of the record's category for the purpose it was collected for (shape, card numbers, CVV names); sealed under the subject's key with the same record id; the old ciphertext is overwritten. Audited with the category, never the value.",
                "parameters": [id_param(), { "name": "record", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" }, "description": "Record id" }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RectifyRequest" } } } },
                "responses": with(json!({ "200": ok("Rectified", "Rectified") }), errors(&["400", "401", "403", "404", "410", "413", "415", "422", "429"]))
            } },
            "/v1/subjects/{id}/restriction": {
                "post": { "summary": "Restrict processing of a subject (admin)",
                    "description": "From now on only purposes declared `during_restriction` (storage, legal claims) read the subject (P0-16, L-6).",
                    "parameters": [id_param()],
                    "responses": with(json!({ "200": ok("Restricted", "StateChanged") }), errors(&["400", "401", "403", "404", "410", "429"])) },
                "delete": { "summary": "Lift a restriction (admin)",
                    "parameters": [id_param()],
                    "responses": with(json!({ "200": ok("Active again", "StateChanged") }), errors(&["400", "401", "403", "404", "410", "429"])) }
            },
            "/v1/subjects/{id}/erasure": { "post": {
                "summary": "Erase a subject (admin): crypto-shredding with legal holds (P0-17)",
                "description": "Deletes every record and blind-index entry and destroys the subject's data key; records the policy keeps under a legal obligation readable during restriction are re-sealed under the tenant's hold key and kept apart until their retention ends. Returns the erasure receipt (categories and dates, no values).",
                "parameters": [id_param()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/EraseRequest" } } } },
                "responses": with(json!({ "200": ok("Erasure receipt", "ErasureReceipt") }), errors(&["400", "401", "403", "404", "410", "413", "415", "422", "429"]))
            } },
            "/v1/subjects/{id}/held": { "get": {
                "summary": "Records kept under a legal hold after erasure, for a purpose allowed during restriction",
                "parameters": [id_param(), { "name": "purpose", "in": "query", "required": true, "schema": { "type": "string" } }],
                "responses": with(json!({ "200": ok("The held values this purpose may read", "HeldRead") }), errors(&["400", "401", "403", "404", "422", "429"]))
            } }
    })
}

fn lifecycle_schemas() -> Value {
    json!({
        "RectifyRequest": { "type": "object", "required": ["value"], "additionalProperties": false, "properties": {
            "value": { "description": "The new value, of the record category's shape" } } },
        "Rectified": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" }, "record": { "type": "string", "format": "uuid" },
            "category": { "type": "string" }, "audit_seq": { "type": "integer" } } },
        "StateChanged": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" },
            "state": { "type": "string", "enum": ["active", "restricted"] }, "audit_seq": { "type": "integer" } } },
        "EraseRequest": { "type": "object", "required": ["reason"], "additionalProperties": false, "properties": {
            "reason": { "type": "string", "minLength": 1, "maxLength": 2000, "description": "Shown in the receipt; not written to the audit log" } } },
        "ErasureReceipt": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" }, "erased_at": { "type": "string", "format": "date-time" },
            "reason": { "type": "string" },
            "deleted": { "type": "array", "items": { "type": "string" }, "description": "Categories deleted, key destroyed" },
            "kept": { "type": "array", "items": { "type": "object", "properties": {
                "category": { "type": "string" }, "held_for": { "type": "string" }, "reason": { "type": "string" },
                "until": { "type": ["string", "null"], "format": "date-time" }, "records": { "type": "integer" } } } },
            "audit_seq": { "type": "integer" } } },
        "HeldRead": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" }, "purpose": { "type": "string" },
            "values": { "type": "array", "items": { "type": "object", "properties": {
                "record": { "type": "string", "format": "uuid" }, "category": { "type": "string" }, "value": {},
                "collected_for": { "type": "string" }, "source": { "type": "string" },
                "collected_at": { "type": "string", "format": "date-time" }, "held_for": { "type": "string" },
                "reason": { "type": "string" }, "until": { "type": ["string", "null"], "format": "date-time" } } } } } }
    })
}

fn schemas() -> Value {
    json!({
        "Problem": { "type": "object", "required": ["type", "title", "status", "code"], "properties": {
            "type": { "type": "string", "description": "urn:custos:problem:<code>" },
            "title": { "type": "string" }, "status": { "type": "integer" }, "detail": { "type": "string" },
            "code": { "type": "string", "description": "Stable error code, e.g. VAULT-0001" },
            "request_id": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object", "properties": {
                "pointer": { "type": "string", "description": "JSON pointer into the request body" },
                "code": { "type": "string" }, "detail": { "type": "string" } } } } } },
        "WriteRequest": { "type": "object", "required": ["records"], "additionalProperties": false, "properties": {
            "jurisdiction": { "type": "string", "description": "Only when creating a subject. Its `min_age` gates birth dates (V-5, L-10)" },
            "records": { "type": "array", "minItems": 1, "maxItems": 1000, "items": { "$ref": "#/components/schemas/NewRecord" } },
            "settings": { "type": "object", "additionalProperties": { "type": "boolean" }, "default": {}, "example": { "gps_enabled": true },
                "description": "Customer settings and device permissions in force for this write. A category with `requires_setting` (precise location: S-2, L-2) is accepted only when its setting is `true` here" },
            "consents": { "type": "array", "default": [], "items": { "$ref": "#/components/schemas/CarriedConsent" },
                "description": "The person's consent as given on the client's form, for purposes that rest on consent; recorded first, in the same transaction. Without a current consent a write for such a purpose is refused (VAULT-0203). Only roles with `records_consent` (and admin keys) may carry one (403 VAULT-0204)" } } },
        "CarriedConsent": { "type": "object", "required": ["purpose", "notice_text", "channel"], "additionalProperties": false, "properties": {
            "purpose": { "type": "string" },
            "notice_text": { "type": "string", "description": "The exact text the form showed; only its SHA-256 is stored" },
            "channel": { "type": "string", "enum": ["web", "app", "email", "email_link", "phone", "paper", "gpc", "operator", "api", "privacy_center"] },
            "ip": { "type": "string", "description": "Only a keyed hash is stored" },
            "user_agent": { "type": "string", "maxLength": 512 } } },
        "NewRecord": { "type": "object", "required": ["category", "value", "purpose"], "additionalProperties": false, "properties": {
            "category": { "type": "string", "example": "user.contact.email" },
            "value": { "description": "A string for text-like shapes; a number, boolean or any JSON per the category's shape" },
            "purpose": { "type": "string", "example": "account" },
            "source": { "type": "string", "enum": ["data_subject", "device", "cookies", "customer", "third_party", "public_sources", "offline", "partner"] } } },
        "Written": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" },
            "records": { "type": "array", "items": { "type": "string", "format": "uuid" } },
            "audit_seq": { "type": "integer" } } },
        "ReadOutcome": { "type": "object", "properties": {
            "subject": { "type": "string", "format": "uuid" }, "purpose": { "type": "string" }, "policy_version": { "type": "integer" },
            "values": { "type": "array", "items": { "type": "object", "properties": {
                "record": { "type": "string" }, "category": { "type": "string" }, "value": {},
                "collected_for": { "type": "string" }, "source": { "type": "string" },
                "collected_at": { "type": "string", "format": "date-time" }, "expires_at": { "type": ["string", "null"], "format": "date-time" } } } },
            "withheld": { "type": "array", "items": { "type": "object", "properties": {
                "category": { "type": "string" },
                "reason": { "type": "string", "enum": ["not_for_purpose", "no_consent", "consent_withdrawn", "objected", "restricted", "anonymised_only", "setting_off"] } } } } } },
        "ConsentInput": { "type": "object", "required": ["purpose", "action", "channel"], "additionalProperties": false, "properties": {
            "purpose": { "type": "string" },
            "action": { "type": "string", "enum": ["grant", "withdraw", "object", "lift_objection"] },
            "channel": { "type": "string", "enum": ["web", "app", "email", "email_link", "phone", "paper", "gpc", "operator", "api", "privacy_center"] },
            "notice_text": { "type": "string", "description": "The exact text shown; only its SHA-256 is stored" },
            "ip": { "type": "string", "description": "Only a keyed hash is stored" },
            "user_agent": { "type": "string", "maxLength": 512 } } },
        "ConsentReceipt": { "type": "object", "properties": {
            "id": { "type": "string" }, "subject": { "type": "string" }, "purpose": { "type": "string" },
            "kind": { "type": "string", "enum": ["granted", "withdrawn", "objected", "objection_lifted"] },
            "policy_version": { "type": "integer" }, "notice_hash": { "type": "string" }, "notice_text": { "type": ["string", "null"] },
            "channel": { "type": "string" }, "ip_hashed": { "type": "boolean" }, "user_agent": { "type": ["string", "null"] },
            "at": { "type": "string", "format": "date-time" },
            "recorded_by": { "type": "string", "description": "`data_subject` (the person), `admin`, or the policy role that relayed it" } } },
        "NewRequest": { "type": "object", "required": ["right", "channel"], "additionalProperties": false, "properties": {
            "right": { "type": "string", "enum": ["access", "rectification", "erasure", "portability", "restriction", "objection", "consent_withdrawal"] },
            "subject": { "type": "string", "format": "uuid" }, "jurisdiction": { "type": "string" },
            "channel": { "type": "string", "enum": ["privacy_center", "web", "email", "post", "phone", "api"] },
            "on_behalf_of": { "type": "string", "maxLength": 2000, "description": "The controller, when the request concerns data held as its processor; routed to it when the policy says so" } } },
        "RequestAction": { "type": "object", "required": ["action"], "properties": {
            "action": { "type": "string", "enum": ["verify", "start", "fulfil", "reject", "extend", "instruct"] },
            "reason": { "type": "string", "description": "Required for reject and extend" },
            "controller_reference": { "type": "string", "maxLength": 2000, "description": "Required for instruct: the reference of the controller's documented instruction" },
            "instruction": { "type": "string", "maxLength": 2000, "description": "Required for instruct: what the controller instructed" } } },
        "RequestView": { "type": "object", "properties": {
            "id": { "type": "string" }, "subject": { "type": ["string", "null"] }, "right": { "type": "string" },
            "state": { "type": "string", "enum": ["received", "routed", "verified", "in_progress", "fulfilled", "rejected"] },
            "received_at": { "type": "string", "format": "date-time" }, "due_at": { "type": "string", "format": "date-time" },
            "extended_until": { "type": ["string", "null"], "format": "date-time" }, "deadline": { "type": "string", "format": "date-time" },
            "overdue": { "type": "boolean" }, "due_soon": { "type": "boolean" }, "answered_on_time": { "type": ["boolean", "null"] } } },
        "LookupRequest": { "type": "object", "required": ["category", "value", "purpose"], "additionalProperties": false, "properties": {
            "category": { "type": "string" }, "value": { "type": "string" }, "purpose": { "type": "string" } } },
        "LookupResult": { "type": "object", "properties": { "subjects": { "type": "array", "items": { "type": "string", "format": "uuid" } } } },
        "NewKey": { "type": "object", "required": ["role"], "additionalProperties": false, "properties": {
            "label": { "type": "string" }, "role": { "type": "string", "description": "A recipient id from the policy" },
            "purposes": { "type": "array", "items": { "type": "string" }, "description": "Limit the key to these purposes" },
            "admin": { "type": "boolean" } } }
    })
}

/// Consumer contracts (issue 9): orders, memberships, returns, all admin.
fn contract_paths() -> Value {
    let param = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" }, "description": "Contract id" });
    let list_params = json!([
        { "name": "subject", "in": "query", "required": false, "schema": { "type": "string", "format": "uuid" }, "description": "Only this subject's contracts" },
        { "name": "status", "in": "query", "required": false, "schema": { "type": "string" }, "description": "Only contracts in this status" }
    ]);
    let mut out = serde_json::Map::new();
    for (base, what, schema, create) in [
        (
            "/v1/orders",
            "order",
            "NewOrder",
            "Place an order (admin): quantity limits over the subject's earlier orders (T-7); acknowledge, confirm (the contract forms, T-6), deliver through actions",
        ),
        (
            "/v1/memberships",
            "membership",
            "NewMembership",
            "Buy a membership (admin): a trial plan waits for activation (T-10), others start billing at once with a renewal-charge notice (T-11)",
        ),
        (
            "/v1/returns",
            "return",
            "NewReturn",
            "Notify a return (admin): refused after the window, whichever of its two periods ends later (T-15)",
        ),
    ] {
        out.insert(base.to_owned(), json!({
            "post": { "summary": create,
                "description": "Notices owed (`contract.*`) are queued in the outbox in the same transaction as the contract and its audit entry. Problems carry stable `CONTRACT-0xxx` codes in `errors`.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } },
                "responses": with(json!({ "201": ok(&format!("The {what}"), "ContractView") }), errors(&["400", "401", "403", "413", "415", "422", "429"])) },
            "get": { "summary": format!("List {what}s (admin), oldest first"),
                "parameters": list_params.clone(),
                "responses": with(json!({ "200": { "description": "{contracts: [ContractView]}" } }), errors(&["400", "401", "403"])) }
        }));
        out.insert(format!("{base}/{{id}}"), json!({
            "get": { "summary": format!("One {what} (admin)"), "parameters": [param.clone()],
                "responses": with(json!({ "200": ok(&format!("The {what}"), "ContractView") }), errors(&["400", "401", "403", "404"])) }
        }));
        out.insert(format!("{base}/{{id}}/actions"), json!({
            "post": { "summary": format!("Act on a {what} (admin): one engine transition at the server's clock"),
                "description": "An action that does not apply to this kind is refused with CONTRACT-0109, one the state does not allow with CONTRACT-0105, one past its period with CONTRACT-0106, a concurrent change with CONTRACT-0108, an announced change of unknown kind or too short notice with CONTRACT-0111.",
                "parameters": [param.clone()],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ContractAction" } } } },
                "responses": with(json!({ "200": ok(&format!("The {what} after the step"), "ContractView") }), errors(&["400", "401", "403", "404", "422"])) }
        }));
    }
    Value::Object(out)
}

fn contract_schemas() -> Value {
    json!({
        "CustomerPlace": { "type": "object", "required": ["jurisdiction", "time_zone"], "additionalProperties": false,
            "description": "Where the customer lives, as the terms need it: no address (it stays in the vault).",
            "properties": {
                "jurisdiction": { "type": "string", "example": "BE", "description": "A jurisdiction key of the policy" },
                "subdivision": { "type": "string", "example": "BY", "description": "State, canton or nation (holidays)" },
                "time_zone": { "type": "string", "example": "Europe/Brussels" },
                "consumer": { "type": "boolean", "default": true } } },
        "NewOrder": { "type": "object", "required": ["subject", "customer", "lines", "shipping"], "additionalProperties": false, "properties": {
            "subject": { "type": "string", "format": "uuid" },
            "customer": { "$ref": "#/components/schemas/CustomerPlace" },
            "lines": { "type": "array", "minItems": 1, "items": { "type": "object", "required": ["sku", "quantity", "unit_price"], "additionalProperties": false, "properties": {
                "sku": { "type": "string" }, "quantity": { "type": "integer", "minimum": 1 }, "unit_price": { "type": "string", "example": "99.00 EUR" } } } },
            "shipping": { "type": "string", "example": "5.00 EUR" },
            "payment_ref": { "type": "string", "description": "The payment processor's reference, never card data" } } },
        "NewMembership": { "type": "object", "required": ["subject", "customer", "plan", "price"], "additionalProperties": false, "properties": {
            "subject": { "type": "string", "format": "uuid" },
            "customer": { "$ref": "#/components/schemas/CustomerPlace" },
            "plan": { "type": "string", "example": "homepass", "description": "A plan key of the policy's [contract.plan]" },
            "price": { "type": "string", "example": "9.99 EUR", "description": "Price of one paid period" },
            "first_time": { "type": "boolean", "default": true, "description": "First-time customers get the plan's free trial" },
            "payment_ref": { "type": "string" } } },
        "NewReturn": { "type": "object", "required": ["subject", "customer", "delivery_confirmed_at", "possession_at"], "additionalProperties": false, "properties": {
            "subject": { "type": "string", "format": "uuid" },
            "customer": { "$ref": "#/components/schemas/CustomerPlace" },
            "order": { "type": "string", "format": "uuid", "description": "The order returned, when kept here (same subject)" },
            "delivery_confirmed_at": { "type": "string", "format": "date-time" },
            "possession_at": { "type": "string", "format": "date-time" } } },
        "ContractAction": { "type": "object", "required": ["action"], "properties": {
            "action": { "type": "string", "enum": ["acknowledge", "confirm", "decline", "unavailable", "delivered",
                "activate", "cancel", "payment_failed", "payment_recovered", "terminate", "reactivate",
                "announce_change", "accept_change", "cancel_for_change",
                "payment_invalid", "withdraw", "goods_returned", "dispatch_proven", "refunded",
                "issue_rma", "shipped", "received"] },
            "reference": { "type": "string", "description": "acknowledge: the order reference" },
            "estimated_delivery": { "type": "string", "format": "date", "description": "confirm" },
            "reason": { "type": "string", "description": "decline" },
            "device": { "type": "string", "description": "activate: the device id" },
            "price": { "type": "string", "description": "reactivate: the new period price" },
            "kind": { "type": "string", "enum": ["price", "features", "terms"], "description": "announce_change: what changes (another value: CONTRACT-0111)" },
            "effective": { "type": "string", "format": "date", "description": "announce_change: the day it takes effect, at the customer's midnight; before the notice period ends it is refused with CONTRACT-0111 (T-4: 30 days; T-20: 6 weeks and acceptance for German consumers)" },
            "new_price": { "type": "string", "example": "12.99 EUR", "description": "announce_change: the new period price (required for a price change)" },
            "legally_mandated": { "type": "boolean", "default": false, "description": "announce_change: required by a change in the law (silence accepts it where the law allows)" },
            "rma": { "type": "string", "description": "issue_rma" },
            "items": { "type": "array", "description": "received: the items back", "items": { "type": "object", "required": ["price_paid"], "properties": {
                "price_paid": { "type": "string" }, "deterioration": { "type": "string" } } } },
            "original_shipping": { "type": "string", "description": "received" },
            "partial_bundle_discount": { "type": "string", "description": "received" } } },
        "ContractView": { "type": "object", "properties": {
            "id": { "type": "string", "format": "uuid" },
            "kind": { "type": "string", "enum": ["order", "membership", "return"] },
            "subject": { "type": "string", "format": "uuid" },
            "status": { "type": "string", "description": "order: placed, acknowledged, awaiting_reconfirmation, confirmed, delivered, declined, withdrawn_unavailable, terminated_invalid_payment, withdrawn, withdrawn_refunded; membership: awaiting_activation, active, cancelling, past_due, ended, withdrawn; return: notified, rma_issued, shipped, received, refunded" },
            "version": { "type": "integer" },
            "created_at": { "type": "string", "format": "date-time" }, "updated_at": { "type": "string", "format": "date-time" },
            "next_due": { "type": ["string", "null"], "format": "date-time", "description": "When the clock job next advances it" },
            "reference": { "type": ["string", "null"], "description": "Order reference, plan key or RMA" },
            "key_dates": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "at": { "type": "string", "format": "date-time" } } } },
            "amounts": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "amount": { "type": "string" } } } },
            "may_cancel": { "type": "boolean" }, "may_withdraw": { "type": "boolean" },
            "withdraw_until": { "type": ["string", "null"], "format": "date-time" },
            "change_needs_acceptance": { "type": "boolean", "description": "An announced change (key date `change_effective`, amount `new_price`) applies only once accepted (T-20)" },
            "may_accept_change": { "type": "boolean", "description": "The customer may accept the announced change now (action accept_change)" },
            "may_cancel_for_change": { "type": "boolean", "description": "The customer may cancel because of the announced change now (action cancel_for_change): it ends no later than the change takes effect" },
            "state": { "type": "object", "description": "The stored engine state" } } }
    })
}
