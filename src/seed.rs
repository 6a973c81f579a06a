//! `seed-demo`: a small, believable world to explore at `/docs`, or (with
//! `--artisans N`) a large one for benchmarks. Deterministic: the same N
//! gives the same data. Every demo account signs in with the password
//! printed at the end.

use api::auth::keys::{issue_api_key, Keyring};
use api::auth::password::Passwords;
use chrono::NaiveDate;
use domain::account::Role;
use domain::agreement::{
    AgreementKind, Attribution, Beneficiary, Commitment, PromotionPlan, Recipient, RevenueSplit,
    Share, ShareBps, Terms, TermsInput,
};
use domain::api_key::{KeySpec, Scope};
use domain::campaign::{CampaignFields, CampaignInput};
use domain::collection::{self, CollectionFields, CollectionStatus, ItemInput};
use domain::collective::{CollectivePatch, MembershipPolicy};
use domain::exchange::{Action, ExchangeKind, Proposal, WorkshopFields};
use domain::expense::{ExpenseCategory, ExpenseFields};
use domain::market_event::{EventFields, EventInput, EventKind};
use domain::partnership::{PartnershipKind, PartnershipText};
use domain::profile::{OpenToPatch, ProfileFields, ProfilePatch};
use domain::program::{ProgramFields, ProgramInput, ProgramKind};
use domain::sale::{Channel, SaleFields};
use domain::text::{DisplayName, Email};
use domain::FieldErrors;
use persistence::agreements::{self, Actor, Amendment};
use persistence::collections::{self as collections_store, CollectionPatch};
use persistence::db::diesel_error;
use persistence::exchanges::{self, NewSession};
use persistence::expenses::{self, NewExpense};
use persistence::market_events::{self, Organizer};
use persistence::organizations::{self, NewOrganization};
use persistence::partnerships::{self, Invitee, Viewer};
use persistence::sales::{self, NewSale};
use persistence::settlements;
use persistence::workshops;
use persistence::{
    campaigns, collectives, skill_index, users, write_tx, AnyConnection, StoreError,
};
use persistence::{programs, shares};

pub const DEMO_PASSWORD: &str = "demo-password-2026";
const BATCH: usize = 500;

const FIRST: [&str; 24] = [
    "Rosa", "Amaru", "Nayeli", "Kwame", "Aiyana", "Tenzin", "Mariam", "Kenji", "Lucía", "Tupac",
    "Ife", "Saanvi", "Mateo", "Ayelen", "Oksana", "Haruto", "Zainab", "Joaquín", "Leilani",
    "Dawit", "Ximena", "Anahí", "Kofi", "Mei",
];
const LAST: [&str; 16] = [
    "Quispe",
    "Mamani",
    "Huanca",
    "Asante",
    "Begay",
    "Dorje",
    "Diallo",
    "Tanaka",
    "Flores",
    "Condori",
    "Okafor",
    "Iyer",
    "Rojas",
    "Nahuel",
    "Kovalenko",
    "Abebe",
];
const PLACES: [(&str, &str); 12] = [
    ("PE", "Cusco"),
    ("PE", "Puno"),
    ("BO", "La Paz"),
    ("MX", "Oaxaca"),
    ("GH", "Ashanti"),
    ("US", "Arizona"),
    ("NP", "Kathmandu"),
    ("ML", "Ségou"),
    ("JP", "Kyoto"),
    ("IN", "Rajasthan"),
    ("UA", "Poltava"),
    ("ET", "Addis Ababa"),
];
const LANGUAGES: [&str; 12] = [
    "es", "qu", "ay", "es-MX", "ak", "nv", "ne", "bm", "ja", "hi", "uk", "am",
];
const CRAFTS: [&str; 16] = [
    "weaving",
    "pottery",
    "natural-dyeing",
    "embroidery",
    "basketry",
    "woodcarving",
    "silversmithing",
    "leatherwork",
    "beadwork",
    "block-printing",
    "felting",
    "glassblowing",
    "paper-making",
    "jewelry",
    "ceramics",
    "knitting",
];
const SKILLS: [&str; 20] = [
    "weaving",
    "pottery",
    "photography",
    "pricing",
    "social-media",
    "natural-dyeing",
    "bookkeeping",
    "product-design",
    "export-logistics",
    "storytelling",
    "embroidery",
    "kiln-firing",
    "packaging",
    "english",
    "spanish",
    "woodcarving",
    "online-shops",
    "branding",
    "grant-writing",
    "mentoring",
];
const TRADITIONS: [&str; 8] = [
    "Andean backstrap weaving",
    "Zapotec natural dyes",
    "Kente cloth",
    "Navajo weaving",
    "Newar woodcarving",
    "Bògòlanfini mud cloth",
    "Kyō-yaki ceramics",
    "Petrykivka painting",
];
const COMMUNITIES: [&str; 3] = ["women-artisans", "indigenous-makers", "young-makers"];
/// Specialisations that turn the 20 skills into the 300-skill vocabulary
/// of a benchmark-sized seed.
const FOCUS: [&str; 15] = [
    "basics",
    "advanced",
    "for-markets",
    "for-export",
    "tools",
    "history",
    "colour",
    "finishing",
    "repair",
    "teaching",
    "patterns",
    "sourcing",
    "sustainability",
    "costing",
    "display",
];
/// The named demo world: the first artisans draw 2–5 skills from the 20
/// plain ones; everyone after (a benchmark seed) 3–8 from the 300.
const NAMED: usize = 24;

/// A tiny deterministic generator (SplitMix64): demo data must be the same
/// on every run, and needs no cryptographic quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn some(&mut self, items: &[&str], min: usize, max: usize) -> Vec<String> {
        let want = min + self.below(max - min + 1);
        let mut out: Vec<String> = Vec::with_capacity(want);
        while out.len() < want.min(items.len()) {
            let item = self.pick(items).to_owned();
            if !out.contains(&item) {
                out.push(item);
            }
        }
        out
    }
}

fn profile(rng: &mut Rng, n: usize, vocabulary: &[&str]) -> Result<(Email, ProfileFields), String> {
    let first = rng.pick(&FIRST);
    let last = rng.pick(&LAST);
    let (country, region) = PLACES[rng.below(PLACES.len())];
    let crafts = rng.some(&CRAFTS, 1, 3);
    let name =
        DisplayName::parse("display_name", &format!("{first} {last}")).map_err(|e| e.message)?;
    let patch = ProfilePatch {
        bio: Some(format!(
            "{first} works in {} from {region}, and is keen to learn from other makers.",
            crafts.join(" and ")
        )),
        crafts: Some(crafts),
        skills_offered: Some(skills(rng, n, vocabulary)),
        skills_wanted: Some(skills(rng, n, vocabulary)),
        cultural_traditions: Some(rng.some(&TRADITIONS, 0, 1)),
        country: Some(Some(country.to_owned())),
        region: Some(Some(region.to_owned())),
        languages: Some(rng.some(&LANGUAGES, 1, 2)),
        open_to: Some(OpenToPatch {
            collaboration: Some(rng.below(4) != 0),
            mentoring: Some(rng.below(3) == 0),
            being_mentored: Some(rng.below(3) == 0),
        }),
        discoverable_by_partners: Some(rng.below(2) == 0),
        communities: Some(rng.some(&COMMUNITIES, 0, 1)),
        links: Some(vec![format!("https://shop.example.org/{}", n + 1)]),
        ..ProfilePatch::default()
    };
    let mut fields = ProfileFields::new_member(name);
    patch
        .validate()
        .map_err(|e| format!("demo profile {n} is invalid: {e:?}"))?
        .apply(&mut fields);
    let email =
        Email::parse("email", &format!("demo-{}@example.org", n + 1)).map_err(|e| e.message)?;
    Ok((email, fields))
}

fn skills(rng: &mut Rng, n: usize, vocabulary: &[&str]) -> Vec<String> {
    if n < NAMED {
        rng.some(&SKILLS, 2, 5)
    } else {
        rng.some(vocabulary, 3, 8)
    }
}

pub fn run(
    conn: &mut AnyConnection,
    passwords: &Passwords,
    keys: &Keyring,
    count: usize,
) -> Result<(), String> {
    let first = Email::parse("email", "demo-1@example.org").map_err(|e| e.message)?;
    if users::find_by_email(conn, &first)
        .map_err(|e| e.to_string())?
        .is_some()
    {
        println!("demo data is already present (demo-1@example.org exists)");
        return Ok(());
    }
    // One hash for all demo accounts: Argon2 per account would make a
    // benchmark-sized seed take hours.
    let password_hash = passwords.hash(DEMO_PASSWORD).map_err(|e| e.to_string())?;
    let mut rng = Rng(2026);
    let vocabulary: Vec<String> = SKILLS
        .iter()
        .flat_map(|skill| FOCUS.iter().map(move |focus| format!("{skill}-{focus}")))
        .collect();
    let vocabulary: Vec<&str> = vocabulary.iter().map(String::as_str).collect();
    // Profiles are loaded without maintaining the matching index, which is
    // rebuilt once at the end.
    skill_index::mark_stale(conn).map_err(|e| e.to_string())?;
    let mut created = 0;
    while created < count {
        let batch_end = (created + BATCH).min(count);
        write_tx(conn, |conn| {
            for n in created..batch_end {
                let (email, profile) = profile(&mut rng, n, &vocabulary)?;
                users::create_account(
                    conn,
                    users::NewAccount {
                        email: &email,
                        password_hash: password_hash.clone(),
                        role: Role::Artisan,
                        profile,
                    },
                )
                .map_err(|e| e.to_string())?;
            }
            Ok::<(), SeedError>(())
        })
        .map_err(|e| e.0)?;
        created = batch_end;
        if count >= 10 * BATCH {
            eprintln!("{created}/{count} artisans");
        }
    }
    skill_index::rebuild(conn).map_err(|e| e.to_string())?;
    let collectives = seed_collectives(conn, count)?;
    let (partnerships, textile) = seed_partnerships(conn, &collectives).map_err(|e| e.0)?;
    let partner_key = match textile {
        Some((textile, sharer)) => {
            Some(seed_partner(conn, keys, &textile, &sharer).map_err(|e| e.0)?)
        }
        None => None,
    };
    let (exchanges, workshops) = seed_skill_exchange(conn, &collectives).map_err(|e| e.0)?;
    let collectives = collectives.len();
    println!(
        "created {count} demo artisans (demo-1@example.org … demo-{count}@example.org, password {DEMO_PASSWORD}), {collectives} collectives, {partnerships} partnerships, {exchanges} exchanges and {workshops} workshop"
    );
    if let Some(key) = partner_key {
        println!(
            "partner organization \"Aid to Artisans\": API key with every scope (shown only now): {key}"
        );
    }
    Ok(())
}

/// The id of demo artisan `n` (1-based).
fn id_of(conn: &mut AnyConnection, n: usize) -> Result<String, String> {
    let email = Email::parse("email", &format!("demo-{n}@example.org")).map_err(|e| e.message)?;
    users::find_by_email(conn, &email)
        .map_err(|e| e.to_string())?
        .map(|u| u.id)
        .ok_or_else(|| format!("demo-{n} is missing"))
}

/// Two collectives coordinated by the first demo artisans, with a few
/// members each and one pending application.
fn seed_collectives(conn: &mut AnyConnection, artisans: usize) -> Result<Vec<String>, String> {
    if artisans < 10 {
        return Ok(Vec::new());
    }
    let specs = [
        (
            "Tejedoras del Valle Sagrado",
            "Backstrap weavers sharing natural dyes, looms and market stalls.",
            vec!["weaving".to_owned(), "natural-dyeing".to_owned()],
            "PE",
            "Cusco",
            MembershipPolicy::Application,
            [1, 2, 3],
            4,
        ),
        (
            "Ashanti Makers Cooperative",
            "Woodcarvers and bead makers who sell together at regional fairs.",
            vec!["woodcarving".to_owned(), "beadwork".to_owned()],
            "GH",
            "Ashanti",
            MembershipPolicy::Open,
            [5, 6, 7],
            8,
        ),
    ];
    let mut ids = Vec::with_capacity(specs.len());
    for (name, description, crafts, country, region, policy, members, applicant) in &specs {
        let fields = CollectivePatch {
            name: Some((*name).to_owned()),
            description: Some((*description).to_owned()),
            crafts: Some(crafts.clone()),
            country: Some(Some((*country).to_owned())),
            region: Some(Some((*region).to_owned())),
            membership_policy: Some(*policy),
        }
        .create()
        .map_err(|e| format!("demo collective is invalid: {e:?}"))?;
        let coordinator = id_of(conn, members[0])?;
        let collective =
            collectives::create(conn, &fields, &coordinator).map_err(|e| e.to_string())?;
        // Members join the way everyone does: invited, and saying yes.
        for n in &members[1..] {
            let member = id_of(conn, *n)?;
            let invitation = collectives::invite(
                conn,
                &collective.id,
                &coordinator,
                &member,
                "Join us for the market season.",
            )
            .map_err(|e| e.to_string())?;
            collectives::answer_invitation(conn, &invitation.id, &member, true)
                .map_err(|e| e.to_string())?;
        }
        let applicant = id_of(conn, *applicant)?;
        collectives::apply(
            conn,
            &collective.id,
            &applicant,
            "I would love to join and share a stall.",
        )
        .map_err(|e| e.to_string())?;
        ids.push(collective.id);
    }
    Ok(ids)
}

fn viewer(id: &str) -> Viewer {
    Viewer {
        id: id.to_owned(),
        admin: false,
    }
}

fn actor(id: &str, party_id: Option<&str>) -> Actor {
    Actor {
        viewer: viewer(id),
        party_id: party_id.map(str::to_owned),
    }
}

fn date(text: &str) -> Result<NaiveDate, SeedError> {
    text.parse()
        .map_err(|e| SeedError(format!("demo date {text}: {e}")))
}

/// Partnerships of three kinds: a co-branded collection between two
/// artisans and a collective (the first of `collectives`) with an active agreement (a charity among the
/// recipients) and one signed amendment; a market event with a draft
/// awaiting a signature; a workshop still forming.
/// Three partnerships; returns how many, and the textile partnership's id
/// with the demo artisan who shares it with partners.
fn seed_partnerships(
    conn: &mut AnyConnection,
    collectives: &[String],
) -> Result<(usize, Option<(String, String)>), SeedError> {
    let Some(tejedoras) = collectives.first() else {
        return Ok((0, None));
    };
    let text = |title: &str, description: &str, goals: &[&str]| PartnershipText {
        title: title.to_owned(),
        description: description.to_owned(),
        shared_goals: goals.iter().map(|g| (*g).to_owned()).collect(),
    };
    let (rosa, kwame, tejedoras_coordinator) = (id_of(conn, 2)?, id_of(conn, 5)?, id_of(conn, 1)?);
    let textile = partnerships::create(
        conn,
        PartnershipKind::CoBrandedCollection,
        &text(
            "Andes to Accra: a co-branded textile line",
            "Alpaca weaving from Cusco meets kente patterns from Ashanti in one shared collection.",
            &["Launch 12 co-branded pieces", "Share a stall at two fairs"],
        ),
        &rosa,
        &[
            Invitee::Artisan(kwame.clone()),
            Invitee::Collective(tejedoras.clone()),
        ],
    )?;
    let parties = partnerships::parties_of(conn, std::slice::from_ref(&textile.id))?;
    let party = |artisan: Option<&str>, collective: Option<&str>| -> Result<String, SeedError> {
        parties
            .iter()
            .find(|p| {
                p.row.artisan_id.as_deref() == artisan
                    && p.row.collective_id.as_deref() == collective
            })
            .map(|p| p.row.id.clone())
            .ok_or_else(|| SeedError("demo party is missing".into()))
    };
    let (rosa_party, kwame_party, tejedoras_party) = (
        party(Some(&rosa), None)?,
        party(Some(&kwame), None)?,
        party(None, Some(tejedoras))?,
    );
    partnerships::answer(conn, &textile.id, &kwame_party, &viewer(&kwame), true)?;
    partnerships::answer(
        conn,
        &textile.id,
        &tejedoras_party,
        &viewer(&tejedoras_coordinator),
        true,
    )?;
    let share = |party: &str, share_bps: i64| Share {
        recipient: Recipient::PartyId(party.to_owned()),
        share_bps: ShareBps::new(share_bps),
    };
    let school = seed_campaign(conn, tejedoras, &tejedoras_coordinator)?;
    let terms = Terms::parse(TermsInput {
        commitments: vec![
            Commitment {
                party_id: tejedoras_party.clone(),
                description: "Weave 40 alpaca scarves with natural dyes".into(),
                due_on: Some(date("2026-11-15")?),
            },
            Commitment {
                party_id: kwame_party.clone(),
                description: "Design the kente borders and run the Accra stall".into(),
                due_on: Some(date("2026-12-01")?),
            },
            Commitment {
                party_id: rosa_party.clone(),
                description: "Photograph the collection and run the online shop".into(),
                due_on: None,
            },
        ],
        revenue_split: RevenueSplit {
            currency: "USD".into(),
            shares: vec![
                share(&tejedoras_party, 4000),
                share(&kwame_party, 3000),
                share(&rosa_party, 2500),
                Share {
                    recipient: Recipient::Beneficiary(Beneficiary {
                        name: "Escuela Taller de Tejido Chinchero".into(),
                        url: Some("https://example.org/escuela-chinchero".into()),
                        organization_id: None,
                        campaign_id: Some(school),
                        public_credit: None,
                    }),
                    share_bps: ShareBps::new(500),
                },
            ],
        },
        promotion_plan: PromotionPlan {
            summary:
                "Launch at the Lima craft fair, then the Accra Arts Centre; joint posts every week."
                    .into(),
            channels: vec![
                "instagram".into(),
                "market_stall".into(),
                "online_shop".into(),
            ],
        },
        cultural_attribution: vec![
            Attribution {
                party_id: tejedoras_party.clone(),
                tradition: "Quechua backstrap weaving".into(),
                credit_line: "Woven by the Tejedoras del Valle Sagrado, Chinchero".into(),
            },
            Attribution {
                party_id: kwame_party.clone(),
                tradition: "Asante kente".into(),
                credit_line: "Kente borders designed in Bonwire, Ashanti".into(),
            },
        ],
        effective_from: date("2026-09-01")?,
        effective_until: None,
    })
    .map_err(|e| SeedError(format!("demo agreement is invalid: {e:?}")))?;
    let signers = [
        (rosa.as_str(), rosa_party.as_str()),
        (kwame.as_str(), kwame_party.as_str()),
        (tejedoras_coordinator.as_str(), tejedoras_party.as_str()),
    ];
    let original = agreements::create(conn, &textile.id, &actor(&rosa, None), &terms)?;
    sign_all(conn, &original.id, &signers)?;
    let amendment = agreements::amend(
        conn,
        &original.id,
        &actor(&kwame, None),
        &Amendment {
            kind: AgreementKind::Amendment,
            effective_from: date("2027-01-01")?,
            effective_until: None,
        },
    )?;
    let amendment = agreements::edit(
        conn,
        &amendment.id,
        &actor(&kwame, None),
        &domain::precondition::Precondition::exactly(amendment.version),
        |terms| {
            let mut input = terms.to_input();
            input.revenue_split.shares[0].share_bps = ShareBps::new(4500);
            input.revenue_split.shares[2].share_bps = ShareBps::new(2000);
            Terms::parse(input)
        },
    )?;
    sign_all(conn, &amendment.id, &signers)?;
    seed_collection(
        conn,
        &textile.id,
        &rosa,
        [&tejedoras_party, &kwame_party, &rosa_party],
    )?;
    seed_market_events(conn, &textile.id, (&rosa, &rosa_party), &kwame)?;

    let (kenji, ximena) = (id_of(conn, 9)?, id_of(conn, 4)?);
    let market = partnerships::create(
        conn,
        PartnershipKind::MarketEvent,
        &text(
            "Kyoto–Oaxaca winter market",
            "Two stalls side by side: indigo textiles and black pottery.",
            &["Sell together at the December market"],
        ),
        &kenji,
        &[Invitee::Artisan(ximena.clone())],
    )?;
    let parties = partnerships::parties_of(conn, std::slice::from_ref(&market.id))?;
    let ids: Vec<String> = parties.iter().map(|p| p.row.id.clone()).collect();
    partnerships::answer(conn, &market.id, &ids[1], &viewer(&ximena), true)?;
    let draft = Terms::parse(TermsInput {
        commitments: vec![],
        revenue_split: RevenueSplit {
            currency: "MXN".into(),
            shares: vec![share(&ids[0], 5000), share(&ids[1], 5000)],
        },
        promotion_plan: PromotionPlan {
            summary: "Shared flyer and a joint stall sign.".into(),
            channels: vec!["flyers".into()],
        },
        cultural_attribution: vec![],
        effective_from: date("2026-12-01")?,
        effective_until: Some(date("2026-12-31")?),
    })
    .map_err(|e| SeedError(format!("demo agreement is invalid: {e:?}")))?;
    let draft = agreements::create(conn, &market.id, &actor(&kenji, None), &draft)?;
    agreements::sign(conn, &draft.id, &actor(&kenji, None), &draft.content_hash)?;

    let (tenzin, aiyana) = (id_of(conn, 6)?, id_of(conn, 3)?);
    partnerships::create(
        conn,
        PartnershipKind::SkillWorkshop,
        &text(
            "Natural dyes exchange",
            "A weekend of indigo and cochineal dyeing, taught both ways.",
            &["Teach each other two dye recipes"],
        ),
        &tenzin,
        &[Invitee::Artisan(aiyana)],
    )?;
    Ok((3, Some((textile.id, rosa))))
}

/// A partner organization, "Aid to Artisans", with one API key of every
/// scope (returned: it is printed once), an open market-access program
/// three demo artisans applied to, and the textile partnership shared with
/// it.
fn seed_partner(
    conn: &mut AnyConnection,
    keys: &Keyring,
    textile: &str,
    sharer: &str,
) -> Result<String, SeedError> {
    let organization = organizations::create(
        conn,
        NewOrganization {
            name: "Aid to Artisans".to_owned(),
            website: Some("https://aid-to-artisans.example.org".to_owned()),
            country: Some("US".to_owned()),
            description: "Market access, training and small grants for artisan enterprises."
                .to_owned(),
        },
    )?;
    let spec = KeySpec::parse(
        "demo integration",
        Scope::ALL.to_vec(),
        None,
        persistence::now(),
    )
    .map_err(|e| SeedError(format!("demo key: {e:?}")))?;
    let minted = keys.mint_api_key();
    issue_api_key(conn, &organization.id, &minted, spec)
        .map_err(|e| SeedError(e.problem().detail))?;
    let fields = ProgramFields::parse(ProgramInput {
        title: "Market access: Santa Fe folk art market".to_owned(),
        kind: ProgramKind::MarketAccess,
        description: "A shared stand at the July market, travel and shipping paid, for weavers and makers of the Andes and West Africa.".to_owned(),
        countries: Vec::new(),
        crafts: Vec::new(),
        opens_on: date("2026-11-01")?,
        closes_on: date("2027-06-30")?,
        seats: Some(4),
    })
    .map_err(|e| SeedError(format!("demo program: {e:?}")))?;
    let program = programs::create(conn, &organization.id, &fields)?;
    for (n, statement) in [
        (2, "Our collective's alpaca ponchos sold out at the Cusco fair; we would love a wider market."),
        (5, "Kente strips woven with Andean partners: a stand would show the collection together."),
        (1, "The Tejedoras cooperative can send two weavers and a natural-dye demonstration."),
    ] {
        let artisan = id_of(conn, n)?;
        programs::apply(conn, &program.row.id, &artisan, statement)?;
    }
    shares::share(conn, textile, &viewer(sharer), &organization.id)?;
    Ok(minted.secret.expose().to_owned())
}

/// A campaign of the Tejedoras collective for the weaving school that the
/// textile agreement's beneficiary share feeds (its id).
fn seed_campaign(
    conn: &mut AnyConnection,
    tejedoras: &str,
    coordinator: &str,
) -> Result<String, SeedError> {
    let fields = CampaignFields::parse(CampaignInput {
        title: "Looms for the Chinchero weaving school".into(),
        cause: "Ten backstrap looms and a year of yarn, so that thirty girls learn the patterns of their grandmothers.".into(),
        beneficiary_name: "Escuela Taller de Tejido Chinchero".into(),
        url: Some("https://example.org/escuela-chinchero".into()),
        goal_minor: 500_000,
        goal_currency: "USD".into(),
        starts_on: date("2026-09-01")?,
        ends_on: date("2027-08-31")?,
    })
    .map_err(|e| SeedError(format!("demo campaign is invalid: {e:?}")))?;
    Ok(campaigns::create(conn, &viewer(coordinator), &fields, Some(tejedoras))?.id)
}

/// The textile partnership's published collection: three items crediting
/// the makers, one a numbered edition of 12 (sold at the festival, see
/// [`seed_market_events`]).
fn seed_collection(
    conn: &mut AnyConnection,
    partnership: &str,
    rosa: &str,
    [tejedoras, kwame, rosa_party]: [&str; 3],
) -> Result<(), SeedError> {
    let item = |sku: &str,
                name: &str,
                price: i64,
                edition: Option<i64>,
                makers: &[&str],
                credit: Option<(&str, &str)>| ItemInput {
        sku: sku.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        price_minor: price,
        currency: "USD".into(),
        edition_size: edition,
        contributors: makers.iter().map(|m| (*m).to_owned()).collect(),
        attribution: credit.map(|(t, c)| (t.to_owned(), c.to_owned())),
    };
    let items = collection::parse_items(vec![
        item(
            "AA-PONCHO-12",
            "Andes–Accra poncho, numbered",
            29_000,
            Some(12),
            &[tejedoras, kwame],
            Some((
                "Quechua backstrap weaving",
                "Woven in Chinchero, kente border from Bonwire",
            )),
        ),
        item(
            "AA-SCARF",
            "Alpaca scarf with kente stripe",
            9_500,
            None,
            &[tejedoras, kwame],
            Some(("Asante kente", "Stripe designed in Bonwire, Ashanti")),
        ),
        item(
            "AA-TOTE",
            "Photographic print tote",
            4_500,
            None,
            &[rosa_party],
            None,
        ),
    ])
    .map_err(|e| SeedError(format!("demo collection is invalid: {e:?}")))?;
    let fields = CollectionFields::parse(
        "Andes to Accra, first edition",
        "Alpaca from the Sacred Valley, kente from Ashanti: twelve numbered ponchos and two pieces for every day, made by both hands.",
        Some(date("2026-10-01")?),
    )
    .map_err(|e| SeedError(format!("demo collection is invalid: {e:?}")))?;
    let created = collections_store::create(conn, partnership, &viewer(rosa), &fields, &items)?;
    collections_store::update(
        conn,
        &created.row.id,
        &viewer(rosa),
        &domain::precondition::Precondition::exactly(created.row.version),
        &CollectionPatch {
            status: Some(CollectionStatus::Published),
            ..CollectionPatch::default()
        },
    )?;
    Ok(())
}

/// The textile partnership at market events: a festival it organised in
/// October with four participants who joined in September, a booth fee
/// Rosa paid and Kwame approved, sales at it and a settlement that nets
/// the fee; and a fair it organises in March with a booth cost, four
/// places and a waitlist.
fn seed_market_events(
    conn: &mut AnyConnection,
    partnership: &str,
    (rosa, rosa_party): (&str, &str),
    kwame: &str,
) -> Result<(), SeedError> {
    let organizer = Organizer::Partnership(partnership.to_owned());
    let at = |text: &str| -> Result<chrono::NaiveDateTime, SeedError> {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
            .map_err(|e| SeedError(format!("demo date {text}: {e}")))
    };
    let event = |name: &str, kind, city: &str, from: &str, to: &str, booth: i64, capacity| {
        EventFields::parse(EventInput {
            name: name.to_owned(),
            kind,
            venue: "Plaza principal".into(),
            city: city.to_owned(),
            country: "PE".into(),
            starts_at: at(from)?,
            ends_at: at(to)?,
            booth_cost: Some((booth, "USD".into())),
            capacity,
            description: "Weaving, kente and photography side by side.".into(),
        })
        .map_err(|e| SeedError(format!("demo event is invalid: {e:?}")))
    };
    let festival = market_events::create(
        conn,
        &viewer(rosa),
        &organizer,
        &event(
            "Festival de Tejidos de Chinchero",
            EventKind::Festival,
            "Chinchero",
            "2026-10-10 09:00",
            "2026-10-11 18:00",
            60_000,
            None,
        )?,
    )?;
    for (artisan, joined) in [
        (rosa.to_owned(), "2026-09-14 10:00"),
        (kwame.to_owned(), "2026-09-14 18:30"),
        (id_of(conn, 3)?, "2026-09-20 09:15"),
        (id_of(conn, 6)?, "2026-10-02 17:45"),
    ] {
        market_events::join(conn, &festival.row.id, &artisan, at(joined)?)?;
    }
    let fee = ExpenseFields::parse(
        60_000,
        "USD",
        "Festival booth, two days",
        ExpenseCategory::Booth,
        date("2026-10-09")?,
        None,
    )
    .map_err(|e| SeedError(format!("demo expense is invalid: {e:?}")))?;
    let fee = expenses::record(
        conn,
        partnership,
        &viewer(rosa),
        &NewExpense {
            fields: fee,
            paid_by: rosa_party.to_owned(),
            event_id: Some(festival.row.id.clone()),
        },
    )?;
    expenses::decide(conn, &fee.id, &viewer(kwame), true, "Receipt checked")?;
    for (n, (amount, when, sku)) in [
        (18_500, "2026-10-10 11:30", "AA-SCARF"),
        (42_000, "2026-10-10 16:05", "AA-PONCHO-12"),
        (27_250, "2026-10-11 12:40", "AA-PONCHO-12"),
    ]
    .into_iter()
    .enumerate()
    {
        let fields = SaleFields::new(
            amount,
            "USD",
            &format!("Festival sale {}", n + 1),
            Some(&festival.row.id),
            Some(sku),
            None,
        )
        .map_err(|e| SeedError(format!("demo sale is invalid: {e:?}")))?;
        sales::record(
            conn,
            partnership,
            &viewer(kwame),
            &NewSale {
                fields,
                channel: Channel::MarketEvent,
                occurred_at: at(when)?,
            },
        )?;
    }
    settlements::create(conn, partnership, &viewer(rosa), date("2026-11-01")?)?;

    let fair = market_events::create(
        conn,
        &viewer(kwame),
        &organizer,
        &event(
            "Feria de Artesanía de Cusco",
            EventKind::Fair,
            "Cusco",
            "2027-03-20 09:00",
            "2027-03-22 18:00",
            90_001,
            Some(4),
        )?,
    )?;
    for n in [2, 5, 3, 6, 4] {
        let artisan = id_of(conn, n)?;
        market_events::join(conn, &fair.row.id, &artisan, persistence::now())?;
    }
    Ok(())
}

/// A swap with confirmed sessions (and one awaiting confirmation), a
/// mentorship proposal, and a workshop of the first collective with two
/// registrations.
fn seed_skill_exchange(
    conn: &mut AnyConnection,
    collectives: &[String],
) -> Result<(usize, usize), SeedError> {
    let Some(tejedoras) = collectives.first() else {
        return Ok((0, 0));
    };
    let (rosa, kenji, aiyana, tenzin, host) = (
        id_of(conn, 2)?,
        id_of(conn, 9)?,
        id_of(conn, 3)?,
        id_of(conn, 6)?,
        id_of(conn, 1)?,
    );
    let skills = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let swap = Proposal::new(
        ExchangeKind::Swap,
        &skills(&["weaving"]),
        &skills(&["photography"]),
        "I can teach backstrap weaving if you show me how to photograph textiles.",
        6.0,
    )?;
    let swap = exchanges::propose(conn, &rosa, &kenji, &swap)?;
    exchanges::act(conn, &swap.id, &kenji, Action::Accept)?;
    for (teacher, learner, skill, minutes, day, confirm) in [
        (&rosa, &kenji, "weaving", 90, "2026-11-10", true),
        (&kenji, &rosa, "photography", 60, "2026-11-12", true),
        (&rosa, &kenji, "weaving", 45, "2026-11-20", false),
    ] {
        let session = exchanges::record_session(
            conn,
            &swap.id,
            teacher,
            &NewSession {
                taught_by: teacher,
                skill,
                minutes,
                held_on: date(day)?,
            },
        )?;
        if confirm {
            exchanges::confirm_session(conn, &swap.id, &session.id, learner)?;
        }
    }
    let mentorship = Proposal::new(
        ExchangeKind::Mentorship,
        &[],
        &skills(&["pricing"]),
        "Could you help me price my first export order?",
        3.0,
    )?;
    exchanges::propose(conn, &aiyana, &tenzin, &mentorship)?;

    let fields = WorkshopFields::new(
        "Cochineal and indigo: a natural dye day",
        "natural-dyeing",
        "From insect to dye bath: we dye alpaca yarn together. Bring gloves.",
        12,
        3.0,
        Some("Chinchero community centre"),
        None,
    )?;
    let starts = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .and_hms_opt(14, 0, 0)
        .ok_or_else(|| SeedError("demo workshop time".into()))?;
    let workshop = workshops::create(conn, &host, &fields, starts, Some(tejedoras))?;
    for who in [&rosa, &aiyana] {
        workshops::register(conn, &workshop.id, who)?;
    }
    Ok((2, 1))
}

/// Every signer signs the agreement's current hash.
fn sign_all(conn: &mut AnyConnection, id: &str, signers: &[(&str, &str)]) -> Result<(), SeedError> {
    for (who, party) in signers {
        let current = agreements::find(conn, id, &viewer(who))?;
        agreements::sign(conn, id, &actor(who, Some(party)), &current.content_hash)?;
    }
    Ok(())
}

/// Carries a message through `write_tx`, which needs `From<diesel error>`.
struct SeedError(String);

impl From<String> for SeedError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<StoreError> for SeedError {
    fn from(error: StoreError) -> Self {
        Self(error.to_string())
    }
}

impl From<FieldErrors> for SeedError {
    fn from(errors: FieldErrors) -> Self {
        Self(format!("demo data breaks a rule: {errors:?}"))
    }
}

impl From<diesel_error::Error> for SeedError {
    fn from(error: diesel_error::Error) -> Self {
        Self(error.to_string())
    }
}
