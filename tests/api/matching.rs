//! The matching index follows every profile write: skills, country and
//! closed accounts, and a rebuild from the profiles gives the same bitmaps.

use std::collections::BTreeMap;

use diesel::prelude::*;
use persistence::schema::skill_postings;
use serde_json::{json, Value};

use crate::exchanges::{artisan, names};
use crate::support::{Account, TestApp};

/// The profile's current version, from its ETag.
async fn version(app: &TestApp, who: &Account) -> String {
    let res = app
        .get(&format!("/v1/artisans/{}", who.id))
        .bearer(&who.token)
        .send()
        .await;
    res.header("etag").expect("etag")
}

async fn edit(app: &TestApp, who: &Account, body: Value) {
    let version = version(app, who).await;
    let res = app
        .patch(&format!("/v1/artisans/{}", who.id))
        .bearer(&who.token)
        .header("If-Match", &version)
        .json(body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn close(app: &TestApp, who: &Account) {
    let version = version(app, who).await;
    let res = app
        .delete("/v1/me")
        .bearer(&who.token)
        .header("If-Match", &version)
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
}

async fn reciprocal(app: &TestApp, me: &Account) -> Vec<String> {
    let res = app.get("/v1/skill-matches").bearer(&me.token).send().await;
    assert_eq!(res.status, 200, "{}", res.text);
    names(&res)
}

#[actix_web::test]
async fn matches_follow_profile_edits_ties_and_closed_accounts() {
    let app = TestApp::spawn().await;
    let me = artisan(&app, "Me", "PE", &["pottery"], &["weaving"]).await;
    let mut equal = Vec::new();
    for name in ["Xia", "Yara", "Zeno"] {
        let who = artisan(&app, name, "GH", &["weaving"], &["pottery"]).await;
        equal.push((who, name.to_owned()));
    }
    let (xia, yara, zeno) = (&equal[0].0, &equal[1].0, &equal[2].0);
    // Equal score and country: ascending id.
    let mut by_id = equal.clone();
    by_id.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let expected: Vec<String> = by_id.into_iter().map(|(_, name)| name).collect();
    assert_eq!(reciprocal(&app, &me).await, expected);

    // A compatriot moves ahead of the others.
    edit(&app, yara, json!({"country": "PE"})).await;
    assert_eq!(reciprocal(&app, &me).await[0], "Yara");

    // Dropping the skill I want, or closing the account, drops the match.
    edit(&app, xia, json!({"skills_offered": ["carving"]})).await;
    close(&app, zeno).await;
    assert_eq!(reciprocal(&app, &me).await, ["Yara"]);

    // My own edit re-ranks at once: now only Xia teaches what I want.
    edit(&app, &me, json!({"skills_wanted": ["carving"]})).await;
    assert_eq!(reciprocal(&app, &me).await, ["Xia"]);
}

/// Every bitmap with at least one member, keyed by (kind, value).
fn postings(app: &TestApp) -> BTreeMap<(String, String), Vec<u8>> {
    let mut pooled = app.conn();
    let conn: &mut persistence::AnyConnection = &mut pooled;
    skill_postings::table
        .select((
            skill_postings::kind,
            skill_postings::value,
            skill_postings::bits,
        ))
        .load::<(String, String, Vec<u8>)>(conn)
        .expect("postings")
        .into_iter()
        .filter(|(_, _, bits)| !bits.is_empty())
        .map(|(kind, value, bits)| ((kind, value), bits))
        .collect()
}

#[actix_web::test]
async fn the_index_kept_by_writes_equals_a_rebuild_from_the_profiles() {
    let app = TestApp::spawn().await;
    let skills = [
        "weaving", "pottery", "carving", "dyeing", "beadwork", "pricing",
    ];
    let countries = ["PE", "GH", "IN"];
    // A small deterministic generator (64-bit LCG).
    let mut state: u64 = 2026;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % n
    };
    let pick = |next: &mut dyn FnMut(usize) -> usize| -> Vec<&str> {
        let mut chosen: Vec<&str> = (0..1 + next(3))
            .map(|_| skills[next(skills.len())])
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        chosen
    };
    let mut people = Vec::new();
    for n in 0..10 {
        let (offers, wants) = (pick(&mut next), pick(&mut next));
        let country = countries[next(countries.len())];
        let who = artisan(&app, &format!("Artisan {n}"), country, &offers, &wants).await;
        people.push((who, true));
    }
    for round in 0..25 {
        let i = next(people.len());
        let (who, open) = &mut people[i];
        if !*open {
            continue;
        }
        if round % 9 == 8 {
            close(&app, who).await;
            *open = false;
            continue;
        }
        let body = match next(3) {
            0 => json!({"skills_offered": pick(&mut next)}),
            1 => json!({"skills_wanted": pick(&mut next)}),
            _ => json!({"country": countries[next(countries.len())]}),
        };
        edit(&app, who, body).await;
    }
    // Concurrent writers of the same bitmaps (a new skill, too): none of
    // their bits may be lost.
    let newcomers = (0..8).map(|n| {
        let name = format!("Newcomer {n}");
        let app = &app;
        async move { artisan(app, &name, "PE", &["weaving", "glassblowing"], &["pottery"]).await }
    });
    futures_util::future::join_all(newcomers).await;
    let maintained = postings(&app);
    let glassblowing = &maintained[&("skill_offered".to_owned(), "glassblowing".to_owned())];
    let members: u32 = glassblowing.iter().map(|b| b.count_ones()).sum();
    assert_eq!(members, 8);
    assert!(maintained.len() >= 6, "{maintained:?}");
    {
        let mut pooled = app.conn();
        let conn: &mut persistence::AnyConnection = &mut pooled;
        persistence::skill_index::rebuild(conn).expect("rebuild");
    }
    assert_eq!(postings(&app), maintained);
}
