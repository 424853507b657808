-- The tables of docs/design.md §4 that Pulse reads, for the baseline server and load runs against a
-- fresh PostgreSQL (Pulse itself creates them with `pulse migrate`). Idempotent.
create table if not exists events (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  start_at timestamptz not null,
  end_at timestamptz not null,
  created_at timestamptz default now());

create table if not exists keywords (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references events,
  query text not null,
  name text not null);

create table if not exists uniq_entries (
  id uuid primary key default gen_random_uuid(),
  hashtags text[],
  user_mentions text[],
  flat_text text,
  kind integer,
  created_at timestamptz not null);

create table if not exists uniq_entry_keywords (
  id uuid primary key default gen_random_uuid(),
  uniq_entry_id uuid not null references uniq_entries,
  keyword_id uuid not null references keywords,
  created_at timestamptz not null);

create index if not exists keywords_event_id on keywords (event_id);
create index if not exists uniq_entry_keywords_keyword_created on uniq_entry_keywords (keyword_id, created_at);
