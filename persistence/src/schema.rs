//! Table definitions shared by both backends (the migrations in
//! `migrations/postgres` and `migrations/sqlite` create the same shapes).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Nullable<Text>,
        email_key -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        role -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    artisans (id) {
        id -> Text,
        display_name -> Text,
        name_key -> Text,
        search_text -> Text,
        bio -> Text,
        crafts -> Text,
        skills_offered -> Text,
        skills_wanted -> Text,
        cultural_traditions -> Text,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        languages -> Text,
        open_to_collaboration -> Bool,
        open_to_mentoring -> Bool,
        open_to_being_mentored -> Bool,
        discoverable_by_partners -> Bool,
        communities -> Text,
        links -> Text,
        rating_sum -> BigInt,
        rating_count -> BigInt,
        former_member -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        primary_craft -> Nullable<Text>,
    }
}

diesel::table! {
    artisan_tags (kind, value, artisan_id) {
        kind -> Text,
        value -> Text,
        artisan_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        website -> Nullable<Text>,
        country -> Nullable<Text>,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        response_headers -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reviews (id) {
        id -> Text,
        exchange_id -> Text,
        reviewer_id -> Text,
        subject_id -> Text,
        rating -> SmallInt,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(artisans -> users (id));
diesel::joinable!(artisan_tags -> artisans (artisan_id));
diesel::joinable!(api_keys -> organizations (organization_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    artisans,
    artisan_tags,
    refresh_tokens,
    organizations,
    api_keys,
    idempotency_keys,
    reviews,
);

diesel::table! {
    collectives (id) {
        id -> Text,
        name -> Text,
        search_text -> Text,
        description -> Text,
        crafts -> Text,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        membership_policy -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    collective_crafts (craft, collective_id) {
        craft -> Text,
        collective_id -> Text,
    }
}

diesel::table! {
    collective_members (collective_id, artisan_id) {
        collective_id -> Text,
        artisan_id -> Text,
        role -> Text,
        joined_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    collective_applications (id) {
        id -> Text,
        collective_id -> Text,
        artisan_id -> Text,
        message -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    collective_invitations (id) {
        id -> Text,
        collective_id -> Text,
        artisan_id -> Text,
        message -> Text,
        status -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::joinable!(collective_members -> artisans (artisan_id));
diesel::joinable!(collective_invitations -> collectives (collective_id));
diesel::allow_tables_to_appear_in_same_query!(
    collectives,
    collective_crafts,
    collective_members,
    collective_applications,
    collective_invitations,
    artisans,
);

diesel::table! {
    partnerships (id) {
        id -> Text,
        title -> Text,
        kind -> Text,
        description -> Text,
        shared_goals -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    partnership_parties (id) {
        id -> Text,
        partnership_id -> Text,
        artisan_id -> Nullable<Text>,
        collective_id -> Nullable<Text>,
        status -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        left_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(partnership_parties -> partnerships (partnership_id));
diesel::joinable!(partnership_parties -> artisans (artisan_id));
diesel::joinable!(partnership_parties -> collectives (collective_id));
diesel::allow_tables_to_appear_in_same_query!(partnerships, partnership_parties);
diesel::allow_tables_to_appear_in_same_query!(partnerships, collective_members);
diesel::allow_tables_to_appear_in_same_query!(partnerships, artisans);
diesel::allow_tables_to_appear_in_same_query!(partnerships, collectives);
diesel::allow_tables_to_appear_in_same_query!(partnership_parties, collective_members);
diesel::allow_tables_to_appear_in_same_query!(partnership_parties, artisans);
diesel::allow_tables_to_appear_in_same_query!(partnership_parties, collectives);

diesel::table! {
    agreements (id) {
        id -> Text,
        partnership_id -> Text,
        kind -> Text,
        supersedes -> Nullable<Text>,
        status -> Text,
        terms -> Text,
        content_hash -> Text,
        currency -> Text,
        effective_from -> Date,
        effective_until -> Nullable<Date>,
        superseded_from -> Nullable<Date>,
        superseded_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        revision -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    agreement_signatures (id) {
        id -> Text,
        agreement_id -> Text,
        revision -> BigInt,
        party_id -> Text,
        content_hash -> Text,
        signed_by -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    agreement_events (id) {
        id -> Text,
        agreement_id -> Text,
        kind -> Text,
        version -> BigInt,
        content_hash -> Text,
        actor_id -> Nullable<Text>,
        party_id -> Nullable<Text>,
        related_agreement_id -> Nullable<Text>,
        note -> Nullable<Text>,
        occurred_at -> Timestamp,
        document -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        partnership_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        dispatched_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(agreements -> partnerships (partnership_id));
diesel::joinable!(agreement_signatures -> partnership_parties (party_id));
diesel::allow_tables_to_appear_in_same_query!(agreements, partnerships);
diesel::allow_tables_to_appear_in_same_query!(agreements, partnership_parties);
diesel::allow_tables_to_appear_in_same_query!(agreements, collective_members);
diesel::allow_tables_to_appear_in_same_query!(agreements, agreement_signatures);
diesel::allow_tables_to_appear_in_same_query!(agreements, allocation_totals);
diesel::allow_tables_to_appear_in_same_query!(agreements, settlements);
diesel::allow_tables_to_appear_in_same_query!(allocation_totals, settlements);
diesel::allow_tables_to_appear_in_same_query!(agreement_signatures, partnership_parties);

diesel::table! {
    exchanges (id) {
        id -> Text,
        kind -> Text,
        proposer_id -> Text,
        partner_id -> Text,
        proposer_teaches -> Text,
        partner_teaches -> Text,
        message -> Text,
        proposed_minutes -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    exchange_sessions (id) {
        id -> Text,
        exchange_id -> Text,
        taught_by -> Text,
        learner_id -> Text,
        skill -> Text,
        minutes -> BigInt,
        held_on -> Date,
        recorded_by -> Text,
        status -> Text,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    workshops (id) {
        id -> Text,
        host_id -> Text,
        title -> Text,
        skill -> Text,
        description -> Text,
        capacity -> BigInt,
        starts_at -> Timestamp,
        duration_minutes -> BigInt,
        location -> Nullable<Text>,
        online_url -> Nullable<Text>,
        collective_id -> Nullable<Text>,
        country -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    workshop_registrations (id) {
        id -> Text,
        workshop_id -> Text,
        artisan_id -> Text,
        status -> Text,
        attended -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    time_ledger (id) {
        id -> Text,
        artisan_id -> Text,
        minutes -> BigInt,
        counterparty_id -> Text,
        session_id -> Nullable<Text>,
        registration_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    market_events (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        venue -> Text,
        city -> Text,
        country -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        organizer_partnership_id -> Nullable<Text>,
        organizer_collective_id -> Nullable<Text>,
        booth_cost_minor -> Nullable<BigInt>,
        booth_currency -> Nullable<Text>,
        capacity -> Nullable<BigInt>,
        description -> Text,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    event_participants (id) {
        id -> Text,
        event_id -> Text,
        artisan_id -> Text,
        arrival -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(event_participants -> market_events (event_id));
diesel::allow_tables_to_appear_in_same_query!(market_events, event_participants);
diesel::allow_tables_to_appear_in_same_query!(event_participants, partnership_parties);
diesel::allow_tables_to_appear_in_same_query!(event_participants, artisans);

diesel::table! {
    expenses (id) {
        id -> Text,
        partnership_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        description -> Text,
        category -> Text,
        incurred_on -> Date,
        paid_by -> Text,
        receipt_url -> Nullable<Text>,
        event_id -> Nullable<Text>,
        status -> Text,
        decided_by -> Nullable<Text>,
        deciding_party -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        recorded_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        agreement_id -> Nullable<Text>,
    }
}

diesel::joinable!(workshop_registrations -> workshops (workshop_id));
diesel::allow_tables_to_appear_in_same_query!(workshops, workshop_registrations);
diesel::allow_tables_to_appear_in_same_query!(workshops, collective_members);

diesel::table! {
    sales (id) {
        id -> Text,
        partnership_id -> Text,
        agreement_id -> Text,
        content_hash -> Text,
        amount_minor -> BigInt,
        refunded_minor -> BigInt,
        currency -> Text,
        occurred_at -> Timestamp,
        description -> Text,
        channel -> Text,
        event_id -> Nullable<Text>,
        item_sku -> Nullable<Text>,
        external_ref -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        sale_id -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    allocation_lines (id) {
        id -> Text,
        sale_id -> Text,
        refund_id -> Nullable<Text>,
        agreement_id -> Text,
        content_hash -> Text,
        share_index -> Integer,
        party_id -> Nullable<Text>,
        beneficiary_name -> Nullable<Text>,
        amount_minor -> BigInt,
        currency -> Text,
        created_at -> Timestamp,
        campaign_id -> Nullable<Text>,
        anonymous -> Bool,
    }
}

diesel::table! {
    allocation_totals (agreement_id, share_index) {
        agreement_id -> Text,
        share_index -> Integer,
        held_minor -> BigInt,
    }
}

diesel::joinable!(allocation_lines -> sales (sale_id));
diesel::joinable!(allocation_lines -> refunds (refund_id));
diesel::allow_tables_to_appear_in_same_query!(allocation_lines, sales, refunds);
diesel::joinable!(refunds -> sales (sale_id));

diesel::table! {
    settlements (id) {
        id -> Text,
        partnership_id -> Text,
        period_start -> Nullable<Date>,
        period_end -> Date,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settlement_lines (id) {
        id -> Text,
        settlement_id -> Text,
        currency -> Text,
        party_id -> Nullable<Text>,
        beneficiary_name -> Nullable<Text>,
        amount_minor -> BigInt,
        allocated_minor -> BigInt,
        expenses_share_minor -> BigInt,
        reimbursed_minor -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        settlement_id -> Text,
        line_id -> Text,
        amount_minor -> BigInt,
        paid_at -> Timestamp,
        reference -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}
diesel::allow_tables_to_appear_in_same_query!(allocation_lines, partnership_parties);
diesel::allow_tables_to_appear_in_same_query!(sales, partnership_parties);
diesel::allow_tables_to_appear_in_same_query!(refunds, partnership_parties);

diesel::table! {
    artisan_ordinals (ordinal) {
        ordinal -> BigInt,
        artisan_id -> Text,
    }
}

diesel::table! {
    skill_postings (kind, value) {
        kind -> Text,
        value -> Text,
        bits -> Binary,
    }
}

diesel::table! {
    derived_indexes (name) {
        name -> Text,
        stale -> Bool,
    }
}

diesel::joinable!(artisan_ordinals -> artisans (artisan_id));
diesel::allow_tables_to_appear_in_same_query!(artisan_ordinals, artisans);
diesel::allow_tables_to_appear_in_same_query!(artisan_ordinals, artisan_tags);

diesel::table! {
    admin_audit_log (id) {
        id -> Text,
        action -> Text,
        target_user_id -> Text,
        actor_id -> Nullable<Text>,
        via -> Text,
        reason -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    collections (id) {
        id -> Text,
        partnership_id -> Text,
        name -> Text,
        story -> Text,
        launch_on -> Nullable<Date>,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    collection_items (id) {
        id -> Text,
        collection_id -> Text,
        partnership_id -> Text,
        position -> Integer,
        sku -> Text,
        name -> Text,
        description -> Text,
        price_minor -> BigInt,
        currency -> Text,
        edition_size -> Nullable<BigInt>,
        tradition -> Nullable<Text>,
        credit_line -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    collection_contributors (item_id, position) {
        item_id -> Text,
        position -> Integer,
        collection_id -> Text,
        party_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    collections,
    collection_items,
    collection_contributors
);

diesel::table! {
    campaigns (id) {
        id -> Text,
        title -> Text,
        cause -> Text,
        beneficiary_name -> Text,
        url -> Nullable<Text>,
        goal_minor -> BigInt,
        goal_currency -> Text,
        starts_on -> Date,
        ends_on -> Date,
        collective_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaign_days (campaign_id, day, partnership_id, anonymous, currency) {
        campaign_id -> Text,
        partnership_id -> Text,
        anonymous -> Bool,
        currency -> Text,
        day -> Date,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        subject_type -> Text,
        subject_id -> Text,
        actor_id -> Nullable<Text>,
        data -> Text,
        read_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    partnership_shares (partnership_id, organization_id) {
        partnership_id -> Text,
        organization_id -> Text,
        shared_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(partnership_shares, partnerships);
diesel::allow_tables_to_appear_in_same_query!(partnership_shares, organizations);

diesel::table! {
    programs (id) {
        id -> Text,
        organization_id -> Text,
        title -> Text,
        kind -> Text,
        description -> Text,
        opens_on -> Date,
        closes_on -> Date,
        seats -> Nullable<BigInt>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    program_eligibility (program_id, kind, position) {
        program_id -> Text,
        kind -> Text,
        position -> Integer,
        value -> Text,
    }
}

diesel::table! {
    program_applications (id) {
        id -> Text,
        program_id -> Text,
        artisan_id -> Text,
        statement -> Text,
        status -> Text,
        decision_note -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(programs, program_eligibility, program_applications);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        events -> Text,
        description -> Text,
        secret_sealed -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        partnership_id -> Nullable<Text>,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    webhook_deliveries,
    webhook_endpoints,
    webhook_attempts,
    outbox,
    partnership_shares
);
