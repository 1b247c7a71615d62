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
    state       text NOT NULL          -- how its request ended, named as the dialler's outcomes
                CONSTRAINT sigmamind_calls_state_check
                CHECK (state IN ('sending', 'placed', 'refused', 'not_sent', 'unknown')),
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
-- Format 2: the states are named as the dialler's outcomes. Tables that a
-- release of format 1 created name the server's refusal 'failed' and a
-- request never sent 'refused'; the first dialer of format 2 to open them
-- renames those rows and widens nothing else (this needs the tables' owner).
-- Rows that a format 1 dialer writes afterwards are renamed the same way
-- when the next format 2 dialer opens the tables (its campaign says 1).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE conname = 'sigmamind_calls_state_check'
                 AND pg_get_constraintdef(oid) NOT LIKE '%not_sent%') THEN
        ALTER TABLE sigmamind_calls DROP CONSTRAINT sigmamind_calls_state_check;
    END IF;
    IF EXISTS (SELECT 1 FROM sigmamind_campaigns WHERE format_version = 1) THEN
        UPDATE sigmamind_calls AS c
           SET state = CASE c.state WHEN 'failed' THEN 'refused' ELSE 'not_sent' END
          FROM sigmamind_campaigns AS k
         WHERE k.campaign_id = c.campaign_id AND k.format_version = 1
           AND c.state IN ('failed', 'refused');
        UPDATE sigmamind_campaigns SET format_version = 2 WHERE format_version = 1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'sigmamind_calls_state_check') THEN
        ALTER TABLE sigmamind_calls ADD CONSTRAINT sigmamind_calls_state_check
            CHECK (state IN ('sending', 'placed', 'refused', 'not_sent', 'unknown'));
    END IF;
END
$$;
