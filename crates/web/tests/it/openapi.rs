//! The OpenAPI document is a snapshot: any change to a route or a JSON shape shows in review.

#[test]
fn openapi_document_matches_snapshot() {
    let doc = web::openapi();
    let value = serde_json::to_value(&doc).unwrap();
    insta::assert_json_snapshot!("openapi", value);
}

#[test]
fn every_api_route_is_documented() {
    let doc = web::openapi();
    let paths: Vec<&String> = doc.paths.paths.keys().collect();
    for expected in [
        "/api/v1/me",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/follow",
        "/api/v1/my-projects",
        "/api/v1/partners",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/orgs",
        "/api/v1/orgs/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/password",
        "/api/v1/projects/{id}/channels",
        "/api/v1/channels/{id}/messages",
        "/api/v1/channels/{id}/read",
        "/api/v1/messages/{id}",
        "/api/v1/settings",
        "/api/v1/search",
        "/api/v1/channels/{id}/mentionable",
    ] {
        assert!(
            paths.iter().any(|p| p.as_str() == expected),
            "{expected} missing from {paths:?}"
        );
    }
}
