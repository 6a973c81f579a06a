//! Artisan profiles: reading, owner edits under If-Match, validation,
//! foreign users, search filters and keyset pagination.

use std::collections::HashSet;

use domain::account::Role;
use serde_json::{json, Value};

use crate::support::{Account, ArtisanBuilder, TestApp};

fn ids(res: &crate::support::Resp) -> Vec<String> {
    res.body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn profiles_are_visible_to_signed_in_people_without_email() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let res = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&amaru.token)
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["display_name"], "Rosa");
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert!(!res.text.contains(&rosa.email), "no e-mail in a profile");
    app.get(&format!("/v1/artisans/{}", rosa.id))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/artisans/not-a-uuid")
        .bearer(&amaru.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/artisans/01900000-0000-7000-8000-000000000000")
        .bearer(&amaru.token)
        .send()
        .await
        .assert_problem(404, "not-found");
}

/// Profile reads by id that arrive together go to the database together
/// (on PostgreSQL as one statement), and each is still answered for its own
/// reader: a suspended reader's request gets 401 beside others' 200s, a
/// missing profile 404.
#[actix_web::test]
async fn profile_reads_sent_together_are_each_answered_for_their_own_reader() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let rosa = app.artisan("Rosa").await;
    let amaru = app.artisan("Amaru").await;
    let ines = app.artisan("Ines").await;
    let suspended = app
        .post(&format!("/v1/admin/users/{}/suspension", ines.id))
        .bearer(&admin.token)
        .json(json!({"reason": "spam"}))
        .send()
        .await;
    assert_eq!(suspended.status, 200, "{}", suspended.text);
    let nobody = "01900000-0000-7000-8000-000000000000".to_owned();

    // The batch itself: one answer per read, in order, whoever reads.
    let reads = [
        (rosa.id.clone(), amaru.id.clone()),
        (ines.id.clone(), rosa.id.clone()),
        (nobody.clone(), rosa.id.clone()),
        (amaru.id.clone(), nobody.clone()),
        (amaru.id.clone(), amaru.id.clone()),
    ];
    let found =
        persistence::users::standings_and_profiles(&mut app.conn(), &reads).expect("one batch");
    let seen: Vec<(Option<bool>, Option<String>)> = found
        .into_iter()
        .map(|(standing, profile)| {
            (
                standing.map(|s| s.may_act(Role::Artisan)),
                profile.map(|p| p.id),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some(true), Some(amaru.id.clone())),
            (Some(false), Some(rosa.id.clone())),
            (None, None),
            (Some(true), None),
            (Some(true), Some(amaru.id.clone())),
        ]
    );
    assert!(
        persistence::users::standings_and_profiles(&mut app.conn(), &[])
            .expect("no reads")
            .is_empty()
    );

    // Through the API, all at once.
    let before = app.metric("db_profile_reads_total").await.expect("metric");
    let asks: Vec<(&Account, &str)> = (0..24)
        .map(|i| {
            let reader = [&rosa, &amaru, &ines][i % 3];
            let target = [rosa.id.as_str(), amaru.id.as_str(), nobody.as_str()][i / 3 % 3];
            (reader, target)
        })
        .collect();
    let answers = futures_util::future::join_all(asks.iter().map(|(reader, target)| {
        app.get(&format!("/v1/artisans/{target}"))
            .bearer(&reader.token)
            .send()
    }))
    .await;
    for ((reader, target), res) in asks.iter().zip(answers) {
        if reader.id == ines.id {
            res.assert_problem(401, "unauthenticated");
        } else if *target == nobody {
            res.assert_problem(404, "not-found");
        } else {
            assert_eq!(res.status, 200, "{}", res.text);
            assert_eq!(res.body["id"], *target);
        }
    }
    let after = app.metric("db_profile_reads_total").await.expect("metric");
    assert_eq!(after - before, 24, "every read went through a statement");
    let batches = app
        .metric("db_profile_read_batches_total")
        .await
        .expect("metric");
    assert!((1..=after).contains(&batches), "{batches} batches");
}

async fn patch(
    app: &TestApp,
    who: &Account,
    id: &str,
    version: &str,
    body: Value,
) -> crate::support::Resp {
    app.patch(&format!("/v1/artisans/{id}"))
        .bearer(&who.token)
        .header("If-Match", version)
        .json(body)
        .send()
        .await
}

#[actix_web::test]
async fn the_owner_edits_with_if_match_and_gets_a_new_etag() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = patch(
        &app,
        &rosa,
        &rosa.id,
        "\"1\"",
        json!({"crafts": ["weaving", "natural-dyeing"], "country": "PE", "region": "Cusco",
               "languages": ["es", "qu-PE"], "open_to": {"mentoring": true},
               "links": ["https://rosa.example.org"], "communities": ["women-artisans"]}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.body["crafts"], json!(["weaving", "natural-dyeing"]));
    assert_eq!(
        res.body["open_to"],
        json!({"collaboration": false, "mentoring": true, "being_mentored": false})
    );
    // null clears a nullable field; absent fields stay.
    let res = patch(&app, &rosa, &rosa.id, "\"2\"", json!({"region": null})).await;
    assert_eq!(res.body["region"], json!(null));
    assert_eq!(res.body["country"], "PE");
    // A stale or missing If-Match changes nothing.
    patch(&app, &rosa, &rosa.id, "\"2\"", json!({"bio": "stale"}))
        .await
        .assert_problem(412, "precondition-failed");
    app.patch(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .json(json!({"bio": "no if-match"}))
        .send()
        .await
        .assert_problem(428, "precondition-required");
    let now = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["bio"], "");
    assert_eq!(now.body["version"], 3);
}

/// RFC 9110 §13.1.1: a list of entity-tags is evaluated tag by tag; a tag
/// that is well-formed but not the current strong ETag (weak, foreign,
/// garbage in quotes) fails the precondition (412); only a value that is not
/// entity-tag syntax at all is a 400; `*` counts as missing (428).
#[actix_web::test]
async fn if_match_is_evaluated_as_rfc_9110_says() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    for stale in ["\"bogus\"", "W/\"1\"", "\"01\"", "\"\"", "\"2\", \"3\""] {
        patch(&app, &rosa, &rosa.id, stale, json!({"bio": "x"}))
            .await
            .assert_problem(412, "precondition-failed");
    }
    for malformed in ["bogus", "1", "\"1", "\"1\" \"2\"", "W/1"] {
        patch(&app, &rosa, &rosa.id, malformed, json!({"bio": "x"}))
            .await
            .assert_problem(400, "bad-request");
    }
    patch(&app, &rosa, &rosa.id, "*", json!({"bio": "x"}))
        .await
        .assert_problem(428, "precondition-required");
    // One current strong tag anywhere in a list satisfies it.
    let res = patch(
        &app,
        &rosa,
        &rosa.id,
        "W/\"1\", \"other-server\" ,, \"1\"",
        json!({"bio": "listed"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["bio"], "listed");
    assert_eq!(res.body["version"], 2, "only the matching write happened");
    // Several If-Match lines are one list (RFC 9110 §5.3).
    let res = app
        .patch(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .header_line("If-Match", "\"7\"")
        .header_line("If-Match", "\"2\"")
        .json(json!({"bio": "two lines"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["version"], 3);
}

#[actix_web::test]
async fn a_foreign_user_cannot_edit_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let mallory = app.artisan("Mallory").await;
    patch(
        &app,
        &mallory,
        &rosa.id,
        "\"1\"",
        json!({"display_name": "Hacked"}),
    )
    .await
    .assert_problem(404, "not-found");
    let partner = app.partner_key(&["directory:read"]).await;
    let res = app
        .patch(&format!("/v1/artisans/{}", rosa.id))
        .api_key(&partner)
        .header("If-Match", "\"1\"")
        .json(json!({"display_name": "Hacked"}))
        .send()
        .await;
    res.assert_problem(403, "forbidden");
    let now = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["display_name"], "Rosa");
    assert_eq!(now.body["version"], 1);
}

#[actix_web::test]
async fn server_owned_fields_cannot_be_set() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = patch(
        &app,
        &rosa,
        &rosa.id,
        "\"1\"",
        json!({"id": "01900000-0000-7000-8000-000000000000", "rating": {"average": 5, "count": 99}, "version": 40, "bio": "x"}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(res.error_fields(), ["id", "rating", "version"]);
    let now = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["version"], 1);
    assert_eq!(now.body["bio"], "");
    patch(
        &app,
        &rosa,
        &rosa.id,
        "\"1\"",
        json!({"favourite_colour": "red"}),
    )
    .await
    .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn invalid_profile_values_are_reported_per_field() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let too_many: Vec<String> = (0..21).map(|i| format!("craft-{i}")).collect();
    let res = patch(
        &app,
        &rosa,
        &rosa.id,
        "\"1\"",
        json!({"crafts": ["Weaving!"], "skills_offered": too_many, "country": "XX",
               "languages": ["not a tag"], "links": ["ftp://x"], "display_name": "",
               "bio": "b".repeat(2001), "skills_wanted": ["dup", "dup"]}),
    )
    .await;
    res.assert_problem(422, "validation");
    assert_eq!(
        res.error_fields(),
        [
            "display_name",
            "bio",
            "crafts[0]",
            "skills_offered",
            "skills_wanted[1]",
            "country",
            "languages[0]",
            "links[0]"
        ]
    );
    let now = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(now.body["version"], 1, "nothing changed");
}

#[actix_web::test]
async fn concurrent_edits_with_the_same_if_match_have_one_winner() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    for round in 1..=5 {
        let version = format!("\"{round}\"");
        let attempts = (0..6).map(|i| {
            patch(
                &app,
                &rosa,
                &rosa.id,
                &version,
                json!({"bio": format!("edit {round}-{i}")}),
            )
        });
        let results = futures_util::future::join_all(attempts).await;
        let winners: Vec<_> = results.iter().filter(|r| r.status == 200).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.status == 200 || r.status == 412));
        let now = app
            .get(&format!("/v1/artisans/{}", rosa.id))
            .bearer(&rosa.token)
            .send()
            .await;
        assert_eq!(
            now.body["bio"], winners[0].body["bio"],
            "the winner's edit is the one stored"
        );
        assert_eq!(now.body["version"], round + 1);
    }
}

#[actix_web::test]
async fn search_filters_combine() {
    let app = TestApp::spawn().await;
    let rosa = ArtisanBuilder::new("Rosa Quispe")
        .set("crafts", json!(["weaving"]))
        .set("skills_offered", json!(["weaving", "natural-dyeing"]))
        .set("skills_wanted", json!(["photography"]))
        .set("country", json!("PE"))
        .set("region", json!("Cusco"))
        .set("communities", json!(["women-artisans"]))
        .set("open_to", json!({"mentoring": true}))
        .set("bio", json!("Backstrap weaving with alpaca wool"))
        .build(&app)
        .await;
    let kwame = ArtisanBuilder::new("Kwame Asante")
        .set("crafts", json!(["weaving", "woodcarving"]))
        .set("skills_offered", json!(["photography"]))
        .set("country", json!("GH"))
        .build(&app)
        .await;
    let mei = ArtisanBuilder::new("mei Tanaka")
        .set("crafts", json!(["ceramics"]))
        .set("country", json!("JP"))
        .set("skills_wanted", json!(["photography"]))
        .build(&app)
        .await;
    let t = &mei.token;
    let query = |q: &str| app.get(&format!("/v1/artisans?{q}")).bearer(t).send();
    assert_eq!(
        ids(&query("craft=weaving").await),
        [kwame.id.as_str(), rosa.id.as_str()],
        "newest first"
    );
    assert_eq!(
        ids(&query("craft=weaving&country=PE").await),
        [rosa.id.as_str()]
    );
    assert_eq!(
        ids(&query("skill_offered=photography").await),
        [kwame.id.as_str()]
    );
    assert_eq!(
        ids(&query("skill_wanted=photography").await),
        [mei.id.as_str(), rosa.id.as_str()]
    );
    assert_eq!(
        ids(&query("community=women-artisans").await),
        [rosa.id.as_str()]
    );
    assert_eq!(ids(&query("open_to=mentoring").await), [rosa.id.as_str()]);
    assert_eq!(ids(&query("region=Cusco").await), [rosa.id.as_str()]);
    assert_eq!(ids(&query("q=ALPACA").await), [rosa.id.as_str()]);
    assert_eq!(
        ids(&query("q=100%25").await),
        Vec::<&str>::new(),
        "LIKE wildcards are literal"
    );
    assert_eq!(
        ids(&query("sort=name").await),
        [kwame.id.as_str(), mei.id.as_str(), rosa.id.as_str()],
        "case-insensitive"
    );
    query("craft=Not_A_Slug")
        .await
        .assert_problem(400, "bad-request");
    query("country=PER")
        .await
        .assert_problem(400, "bad-request");
    query("sort=rating")
        .await
        .assert_problem(400, "bad-request");
    query("open_to=everything")
        .await
        .assert_problem(400, "bad-request");
    let res = query("limit=0").await;
    res.assert_problem(400, "bad-request");
    assert_eq!(res.error_fields(), ["limit"]);
    query("limit=101").await.assert_problem(400, "bad-request");
    query("cursor=garbage")
        .await
        .assert_problem(400, "bad-request");
}

#[actix_web::test]
async fn a_cursor_walk_has_no_duplicates_or_gaps_while_rows_are_inserted() {
    let app = TestApp::spawn().await;
    let viewer = app.artisan("Viewer").await;
    let mut existing = HashSet::from([viewer.id.clone()]);
    for i in 0..23 {
        existing.insert(app.artisan(&format!("Artisan {i:02}")).await.id);
    }
    for sort in ["newest", "name"] {
        let mut seen: Vec<String> = Vec::new();
        let mut path = format!("/v1/artisans?limit=5&sort={sort}");
        let mut pages = 0;
        loop {
            let res = app.get(&path).bearer(&viewer.token).send().await;
            assert_eq!(res.status, 200, "{}", res.text);
            seen.extend(ids(&res));
            pages += 1;
            // Someone registers between every two pages.
            app.artisan(&format!("Late {sort} {pages}")).await;
            match res.body["next_cursor"].as_str() {
                Some(cursor) => {
                    let link = res.header("link").expect("Link header with a next page");
                    assert!(
                        link.contains(cursor) && link.ends_with("rel=\"next\""),
                        "{link}"
                    );
                    path = format!("/v1/artisans?limit=5&sort={sort}&cursor={cursor}");
                }
                None => {
                    assert!(res.header("link").is_none());
                    break;
                }
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: no duplicates");
        assert!(
            existing.is_subset(&unique),
            "{sort}: every artisan that existed before the walk was served"
        );
    }
}

#[actix_web::test]
async fn reviews_are_listed_newest_first_and_feed_the_rating() {
    let app = TestApp::spawn().await;
    let rosa = app.artisan("Rosa").await;
    let res = app
        .get(&format!("/v1/artisans/{}/reviews", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, json!({"data": [], "next_cursor": null}));
    let reviewer = app.artisan("Amaru").await;
    for (i, rating) in [5, 4, 4].into_iter().enumerate() {
        let exchange = uuid::Uuid::now_v7().to_string();
        persistence::reviews::insert(
            &mut app.conn(),
            persistence::reviews::NewReview {
                exchange_id: &exchange,
                reviewer_id: &reviewer.id,
                subject_id: &rosa.id,
                rating,
                comment: &format!("review {i}"),
            },
        )
        .expect("review");
    }
    let first = app
        .get(&format!("/v1/artisans/{}/reviews?limit=2", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    let comments: Vec<&str> = first.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["comment"].as_str())
        .collect();
    assert_eq!(comments, ["review 2", "review 1"]);
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let second = app
        .get(&format!(
            "/v1/artisans/{}/reviews?limit=2&cursor={cursor}",
            rosa.id
        ))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(second.body["data"][0]["comment"], "review 0");
    assert_eq!(second.body["next_cursor"], json!(null));
    let profile = app
        .get(&format!("/v1/artisans/{}", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await;
    assert_eq!(profile.body["rating"], json!({"average": 4.33, "count": 3}));
    app.get("/v1/artisans/01900000-0000-7000-8000-000000000000/reviews")
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/artisans/{}/reviews?limit=500", rosa.id))
        .bearer(&rosa.token)
        .send()
        .await
        .assert_problem(400, "bad-request");
}
