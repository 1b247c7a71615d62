CREATE TABLE IF NOT EXISTS sigmamind_campaigns (
    campaign_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL UNIQUE,   -- --campaign (default: the contact list's file name)
    from_number    text NOT NULL,          -- a campaign is also its caller number,
    agent          text NOT NULL,          -- its agent ('' for the number's default)
    api            text NOT NULL,          -- and where its calls go
    format_version integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS sigmamind_calls (
    campaign_id bigint NOT NULL REFERENCES sigmamind_campaigns (campaign_id),
    phone       text NOT NULL,             -- +E.164
    row_number  bigint NOT NULL,
    state       text NOT NULL CHECK (state IN ('sending', 'placed', 'failed', 'refused', 'unknown')),
    call_id     text,
    status      integer,
    error       text,
    attempts    integer NOT NULL DEFAULT 0,
    dialer      text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (campaign_id, phone)       -- decides which dialer claims a number
);
CREATE TABLE IF NOT EXISTS sigmamind_dialers (
    dialer       text PRIMARY KEY,         -- host:pid:key
    campaign_id  bigint NOT NULL REFERENCES sigmamind_campaigns (campaign_id),
    host         text NOT NULL,
    pid          integer NOT NULL,
    lock_key     bigint NOT NULL,          -- its session advisory lock, held while it runs
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
