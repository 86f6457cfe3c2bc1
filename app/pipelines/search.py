"""Full-text search over contacts, leads, accounts and deals.

SQLite: one FTS5 table per kind (`search_contacts`, ...; rowid = the record's id), kept
in step by triggers on the record's table, so every write path (services, imports, raw
SQL) is indexed without the application's help. A contact's document includes its
account's name, and renaming an account re-indexes its contacts.

PostgreSQL: GIN expression indexes on `to_tsvector('simple', <document>)` of each table,
plus pg_trgm trigram indexes on the same document for infix matches of 3+ characters
(when the extension can be created; otherwise tsvector alone). A contact's company is
matched through the account's own index.

Both: each word of the query becomes a quoted prefix term (`"jan"*`, `'jan':*`), all of
which must match, so user input is never FTS syntax (`"`, `*`, `OR`, `-`, `NEAR` are only
words or nothing). A query that looks like a phone number also matches its digits, with
or without a leading trunk 0 or country code. Every search runs inside the ORM select of
the model, so the tenancy hook and `access.visible` still decide which rows are seen.

Wiring into the lists (done by the lead at merge)::

    CONTACT_LIST = ListSpec(..., search_with=search_for("contacts"))

`search_for(kind)` returns `(stmt, q) -> stmt` for `ListSpec.search_with`.

Schema: migration `0009_activities_search` creates these objects; for databases built
with `db.create_all()` (tests, bench) a metadata `after_create` hook creates them too.
Beware: an Alembic batch migration (SQLite) that recreates one of the four tables drops
its triggers; call `create_sqlite_triggers(bind, kind)` after it.
"""
import re

from sqlalchemy import Select, and_, column, event, false, func, literal_column, or_, select, table, text, union_all

from app.core.permissions import Actor, require
from app.extensions import db
from app.pipelines import access
from app.pipelines.models import Account, Contact, Deal, Lead

KIND_MODELS = {"contacts": Contact, "leads": Lead, "accounts": Account, "deals": Deal}
MAX_TERMS = 8
PHONE_LIKE = re.compile(r"[\d\s()+.\-/]+")
WORD = re.compile(r"[^\W_]+")  # what FTS5's unicode61 tokenizer calls a token

# What is indexed, per table: plain text columns, phone columns (also as digits).
DOCUMENTS = {
    "contacts": {"text": ("first_name", "last_name", "email"),
                 "phones": ("home_phone", "work_phone", "mobile_phone"),
                 # SQLite only: the company, kept by a trigger on accounts as well.
                 "sqlite_extra": ("(SELECT a.name FROM accounts AS a WHERE a.id = {r}account_id)",)},
    "leads": {"text": ("first_name", "last_name", "email", "company_name"), "phones": ("phone",)},
    "accounts": {"text": ("name", "domain"), "phones": ("phone",)},
    "deals": {"text": ("title",), "phones": ()},
}
PHONE_SUFFIXES = 3  # also index the digits without their first 1..3 (country code, trunk 0)


def is_search_object(name: str | None) -> bool:
    """Tables, triggers and indexes of the search, which are not in the models' metadata."""
    return bool(name) and (name.startswith("search_") or name.startswith("ix_search_"))


# --- the documents, as SQL --------------------------------------------------------------

def _sqlite_digits(col: str) -> str:
    expr = f"coalesce({col}, '')"
    for char in (" ", "+", "-", "(", ")", ".", "/"):
        expr = f"replace({expr}, '{char}', '')"
    return expr


def sqlite_document(name: str, r: str) -> str:
    """The text indexed for one row; `r` is the row prefix ("new.", "contacts.")."""
    spec = DOCUMENTS[name]
    parts = [f"coalesce({r}{c}, '')" for c in spec["text"]]
    for phone in spec["phones"]:
        digits = _sqlite_digits(f"{r}{phone}")
        parts.append(f"coalesce({r}{phone}, '')")
        parts += [digits] + [f"substr({digits}, {n + 1})" for n in range(1, PHONE_SUFFIXES + 1)]
    parts += [f"coalesce({extra.format(r=r)}, '')" for extra in spec.get("sqlite_extra", ())]
    return " || ' ' || ".join(parts)


def pg_document(name: str) -> str:
    """Lower-cased words of one row, punctuation as spaces (so e-mails split like in SQLite).

    Only immutable functions, as an index expression needs; queries repeat it exactly so
    the planner matches them to the index.
    """
    spec = DOCUMENTS[name]
    parts = [f"coalesce({c}, '')" for c in spec["text"]]
    for phone in spec["phones"]:
        digits = f"regexp_replace(coalesce({phone}, ''), '[^0-9]', '', 'g')"
        parts += [f"coalesce({phone}, '')", digits] + [f"substr({digits}, {n + 1})"
                                                      for n in range(1, PHONE_SUFFIXES + 1)]
    joined = " || ' ' || ".join(parts)
    return f"lower(regexp_replace({joined}, '[^[:alnum:]]+', ' ', 'g'))"


def pg_tsvector(name: str) -> str:
    return f"to_tsvector('simple'::regconfig, {pg_document(name)})"


# --- creating the objects (migration and create_all) ---------------------------------------

def sqlite_statements(name: str) -> list[str]:
    fts = f"search_{name}"
    insert_new = f"INSERT INTO {fts}(rowid, business_id, body) VALUES (new.id, new.business_id, " \
                 f"{sqlite_document(name, 'new.')});"
    statements = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(business_id UNINDEXED, body)",
        f"INSERT INTO {fts}(rowid, business_id, body) SELECT id, business_id, {sqlite_document(name, name + '.')}"
        f" FROM {name} WHERE id NOT IN (SELECT rowid FROM {fts})",
    ]
    return statements + sqlite_trigger_statements(name, insert_new)


def sqlite_trigger_statements(name: str, insert_new: str | None = None) -> list[str]:
    fts = f"search_{name}"
    insert_new = insert_new or (f"INSERT INTO {fts}(rowid, business_id, body) VALUES (new.id, new.business_id, "
                                f"{sqlite_document(name, 'new.')});")
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {name} BEGIN {insert_new} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE ON {name} BEGIN"
        f" DELETE FROM {fts} WHERE rowid = old.id; {insert_new} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {name} BEGIN"
        f" DELETE FROM {fts} WHERE rowid = old.id; END",
    ]
    if name == "accounts":  # a contact's document holds its company's name
        statements.append(
            "CREATE TRIGGER IF NOT EXISTS search_accounts_contacts_au AFTER UPDATE OF name ON accounts BEGIN"
            " DELETE FROM search_contacts WHERE rowid IN (SELECT id FROM contacts WHERE account_id = new.id);"
            " INSERT INTO search_contacts(rowid, business_id, body) SELECT id, business_id,"
            f" {sqlite_document('contacts', 'contacts.')} FROM contacts WHERE account_id = new.id; END")
    return statements


def create_sqlite_triggers(bind, name: str) -> None:
    """(Re)create the triggers of one table, e.g. after a batch migration recreated it."""
    for statement in sqlite_trigger_statements(name):
        bind.exec_driver_sql(statement)


def pg_statements(name: str, trigram_schema: str | None) -> list[str]:
    statements = [f"CREATE INDEX IF NOT EXISTS ix_search_{name}_tsv ON {name} USING gin ({pg_tsvector(name)})"]
    if trigram_schema:
        # Qualified: the extension lives in one schema, which need not be on the search_path.
        statements.append(f"CREATE INDEX IF NOT EXISTS ix_search_{name}_trgm ON {name}"
                          f' USING gin (({pg_document(name)}) "{trigram_schema}".gin_trgm_ops)')
    return statements


def create_search_objects(bind) -> None:
    """Create (if missing) and fill the search index of every kind on this connection."""
    dialect = bind.dialect.name
    if dialect == "sqlite":
        for name in DOCUMENTS:
            for statement in sqlite_statements(name):
                bind.exec_driver_sql(statement)
    elif dialect == "postgresql":
        trigram_schema = _try_create_trigram_extension(bind)
        for name in DOCUMENTS:
            for statement in pg_statements(name, trigram_schema):
                bind.exec_driver_sql(statement)


def drop_search_objects(bind) -> None:
    dialect = bind.dialect.name
    if dialect == "sqlite":
        for name in DOCUMENTS:
            for suffix in ("_ai", "_au", "_ad"):
                bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS search_{name}{suffix}")
            bind.exec_driver_sql(f"DROP TABLE IF EXISTS search_{name}")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS search_accounts_contacts_au")
    elif dialect == "postgresql":
        for name in DOCUMENTS:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS ix_search_{name}_tsv")
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS ix_search_{name}_trgm")


_TRIGRAM_SCHEMA_SQL = ("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                       " WHERE e.extname = 'pg_trgm'")


def _try_create_trigram_extension(bind) -> str | None:
    """The schema of pg_trgm if it is (or can be) installed; a missing extension or right
    is not an error (search then uses the tsvector index alone)."""
    schema = bind.exec_driver_sql(_TRIGRAM_SCHEMA_SQL).scalar()
    if schema:
        return schema
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # not available on this server, or not allowed: tsvector only
        savepoint.rollback()
        return None
    savepoint.commit()
    return bind.exec_driver_sql(_TRIGRAM_SCHEMA_SQL).scalar()


def _after_create(target, connection, **kw) -> None:
    create_search_objects(connection)


def _before_drop(target, connection, **kw) -> None:
    drop_search_objects(connection)


def install_schema_hooks(metadata) -> None:
    """`create_all()` / `drop_all()` also create / drop the search objects (tests, bench)."""
    if not event.contains(metadata, "after_create", _after_create):
        event.listen(metadata, "after_create", _after_create)
        event.listen(metadata, "before_drop", _before_drop)


install_schema_hooks(db.metadata)


# --- queries --------------------------------------------------------------------------------

def query_terms(q: str) -> list[str]:
    return WORD.findall((q or "").lower())[:MAX_TERMS]


def phone_digits(q: str) -> list[str]:
    """For a query that looks like a phone number: its digits, and without a leading 0."""
    if not PHONE_LIKE.fullmatch(q.strip()):
        return []
    digits = re.sub(r"\D", "", q)
    if len(digits) < 3:
        return []
    variants = [digits]
    if digits.startswith("0") and len(digits.lstrip("0")) >= 3:
        variants.append(digits.lstrip("0"))
    return variants


def fts5_query(q: str) -> str | None:
    """The FTS5 MATCH string: every word a quoted prefix term; None when there is no word."""
    terms = query_terms(q)
    if not terms:
        return None
    words = " ".join(f'"{t}"*' for t in terms)
    numbers = [f'"{d}"*' for d in phone_digits(q) if d not in terms]
    return " OR ".join([f"({words})", *numbers]) if numbers else words


def tsquery(q: str) -> str | None:
    """The to_tsquery text: `'jan':* & 'smi':*`, terms quoted (they hold letters and digits only)."""
    terms = query_terms(q)
    if not terms:
        return None
    words = " & ".join(f"'{t}':*" for t in terms)
    numbers = [f"'{d}':*" for d in phone_digits(q) if d not in terms]
    return " | ".join([f"({words})", *numbers]) if numbers else words


def matching_ids(name: str, q: str, dialect: str):
    """A select of the ids of `name` rows matching `q` (None when q holds no word)."""
    model = KIND_MODELS[name]
    if dialect == "sqlite":
        match = fts5_query(q)
        if match is None:
            return None
        fts = table(f"search_{name}", column("rowid"))
        return select(fts.c.rowid).where(literal_column(f"search_{name}").op("MATCH")(match))
    query = tsquery(q)
    if query is None:
        return None
    condition = literal_column(pg_tsvector(name)).op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), query))
    terms = query_terms(q)
    if all(len(t) >= 3 for t in terms) and _has_trigram():
        # Infix matches ("mit" in "Smith") through the trigram index; terms are letters
        # and digits only, so they hold no LIKE wildcard.
        document = literal_column(pg_document(name))
        condition = or_(condition, and_(*(document.like(f"%{t}%") for t in terms)))
    ids = select(model.id).where(condition).correlate(None)
    if name == "contacts":  # the company: through the account's own index
        accounts = matching_ids("accounts", q, dialect)
        ids = union_all(ids, select(Contact.id).where(Contact.account_id.in_(accounts)).correlate(None))
        ids = select(ids.subquery().c.id)
    return ids


_TRIGRAM: dict[str, bool] = {}


def _has_trigram() -> bool:
    url = str(db.engine.url)
    if url not in _TRIGRAM:
        _TRIGRAM[url] = db.session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() \
            is not None
    return _TRIGRAM[url]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def search_for(kind: str):
    """A `(stmt, q) -> stmt` full-text filter for `ListSpec(search_with=...)`.

    `kind` is contacts, leads, accounts or deals; `stmt` a select of that model (already
    narrowed by `access.visible`, or narrowed after: the filter only adds a condition).
    """
    model = KIND_MODELS[kind]

    def search(stmt: Select, q: str) -> Select:
        ids = matching_ids(kind, q, _dialect())
        return stmt.where(false()) if ids is None else stmt.where(model.id.in_(ids))

    search.__name__ = f"search_{kind}"
    return search


SEARCH_ORDER = {"contacts": (Contact.last_name, Contact.first_name), "leads": (Lead.last_name, Lead.first_name),
                "accounts": (Account.name,), "deals": (Deal.title,)}


def global_search(actor: Actor, q: str, limit_per_kind: int = 5) -> dict[str, list]:
    """{kind: [records]} for the header search: each kind the actor may view, at most
    `limit_per_kind` rows of each, only rows `access.visible` lets them see."""
    results: dict[str, list] = {}
    for kind, model in KIND_MODELS.items():
        if not actor.can_any(f"{kind}.view", f"{kind}.view_all"):
            results[kind] = []
            continue
        stmt = search_for(kind)(access.visible(select(model), model, actor, kind), q)
        stmt = stmt.order_by(*SEARCH_ORDER[kind], model.id).limit(limit_per_kind)
        results[kind] = list(db.session.scalars(stmt))
    return results


def require_any_search(actor: Actor) -> None:
    require(actor, *(f"{kind}.{what}" for kind in KIND_MODELS for what in ("view", "view_all")))
