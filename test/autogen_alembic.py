#!/usr/bin/python3
"""migr's autogenerate against Alembic's (test/t/040_autogen.pl runs it).

A sequence of model versions written as SQLAlchemy models.  At each step
the database "app" is at the previous version (built by migr: the revision
migr_autogenerate() wrote, loaded and applied) and the models are at the
next.  Alembic's compare_metadata() lists what it detects; the models are
created by metadata.create_all() in database "models", and migr_diff() of
that description against "app" must name every object Alembic names.  The
steps marked "beyond" change what Alembic does not see (its list is empty)
and migr must still find a difference: the README's table.

usage: autogen_alembic.py HOST PORT
"""
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import postgresql as pg

HOST, PORT = sys.argv[1], sys.argv[2]


def url(db):
    return "postgresql+psycopg2://postgres@/%s?host=%s&port=%s" % (db, HOST, PORT)


app = sa.create_engine(url("app"))
models = sa.create_engine(url("models"))


def version(n):
    """The models at version n, and the extra DDL SQLAlchemy has no model for."""
    md = sa.MetaData()
    extra = []
    cols = [sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(200), nullable=False)]
    if n >= 1:
        cols.append(sa.Column("name", sa.Text))
    if n >= 2:
        cols[-1] = sa.Column("name", sa.Text, nullable=False, server_default="anon")
    if n >= 3:
        cols.append(sa.Column("age", sa.BigInteger if n >= 4 else sa.Integer))
    mood = pg.ENUM("happy", "sad", *(["meh"] if n >= 7 else []), name="mood", create_type=True)
    if n >= 6:
        cols.append(sa.Column("mood", mood))
    if n >= 8:
        cols.append(sa.Column("status", sa.Integer, sa.CheckConstraint("status > %d" % (0 if n < 9 else 1), name="status_positive")))
    users = sa.Table("users", md, *cols)
    if n >= 1:
        sa.Index("users_email_idx", users.c.email, unique=n >= 5)
    if n >= 10:
        sa.Index("users_name_idx", users.c.name, postgresql_where=sa.text("age > %d" % (0 if n < 11 else 18)))
    posts = [sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(100))]
    if n >= 2:
        posts.append(sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", name="posts_user_fk")))
    if n < 12:
        sa.Table("posts", md, *posts)
    if n >= 13:
        extra.append("CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= %d" % (18 if n < 14 else 21))
    if n >= 15:
        extra.append("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$")
        extra.append("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()")
    if n >= 16:
        extra.append("CREATE SEQUENCE invoice_no START 1000")
    if n >= 17:
        extra.append("COMMENT ON VIEW adults IS 'grown-ups'")
    return md, extra


# steps: (version, what changes, whether Alembic is expected to see it)
STEPS = [
    (0, "initial tables", True),
    (1, "add column, add index", True),
    (2, "NOT NULL and server default, add foreign key", True),
    (3, "add column", True),
    (4, "column type integer -> bigint", True),
    (5, "index becomes unique", True),
    (6, "enum type and column", True),
    (7, "enum label added", False),
    (8, "column with CHECK constraint", True),
    (9, "CHECK constraint expression changed", False),
    (10, "partial index", True),
    (11, "partial index predicate changed", False),
    (12, "table dropped", True),
    (13, "view created", False),
    (14, "view definition changed", False),
    (15, "function and trigger", False),
    (16, "sequence", False),
    (17, "comment on a view", False),
]


def build_models(n):
    md, extra = version(n)
    with models.begin() as c:
        c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION IF NOT EXISTS migr"))
    md.create_all(models)
    with models.begin() as c:
        for s in extra:
            c.execute(sa.text(s))
    return md


def alembic_names(md):
    """The object names in Alembic's diff list."""
    with app.connect() as c:
        ctx = MigrationContext.configure(c, opts={"compare_type": True, "compare_server_default": True})
        diffs = compare_metadata(ctx, md)
    names = []
    for d in diffs:
        if isinstance(d, list):      # modify_* come as a list of tuples
            for m in d:
                names.append((m[0], m[3]))     # (op, column name)
            continue
        op, obj = d[0], d[1] if len(d) > 1 else None
        if op in ("add_table", "remove_table"):
            names.append((op, obj.name))
        elif op in ("add_column", "remove_column"):
            names.append((op, d[3].name))
        elif op in ("add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"):
            names.append((op, obj.name))
        else:
            names.append((op, str(obj)))
    return names


def migr_statements():
    with models.connect() as c:
        desired = c.execute(sa.text("SELECT migr_schema(ARRAY['public'])::text")).scalar()
    with app.connect() as c:
        desired = c.execute(sa.text(
            "SELECT (CAST($1 AS jsonb) || jsonb_build_object('schemas', migr_schema(ARRAY['public'])->'schemas'))::text"
            .replace("$1", ":d")), {"d": desired}).scalar()
        rows = c.execute(sa.text("SELECT statement, hazard FROM migr_diff(CAST(:d AS jsonb)) WHERE direction = 'upgrade'"),
                         {"d": desired}).fetchall()
        text = c.execute(sa.text("SELECT migr_autogenerate(CAST(:d AS jsonb), 'step', NULL)"), {"d": desired}).scalar()
    return [r[0] for r in rows], [r for r in rows if r[1] == "unsupported"], text


failed = 0
with app.begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION IF NOT EXISTS migr"))
for i, (n, what, alembic_sees) in enumerate(STEPS, 1):
    md = build_models(n)
    seen = alembic_names(md)
    stmts, unsup, revision = migr_statements()
    joined = "\n".join(stmts)
    missing = [s for s in seen if s[1] not in joined]
    problems = []
    if missing:
        problems.append("migr misses what Alembic finds: %s" % missing)
    if unsup:
        problems.append("unsupported rows: %s" % unsup)
    if not stmts:
        problems.append("migr finds nothing")
    if alembic_sees and not seen:
        problems.append("Alembic was expected to see this step")
    if not alembic_sees and seen:
        problems.append("Alembic sees it after all: %s" % seen)
    # apply what migr wrote, as a user would: load and upgrade
    if not problems:
        try:
            with app.begin() as c:
                c.execute(sa.text("SELECT migr_load(:t)"), {"t": revision})
            with app.connect() as c:
                c = c.execution_options(isolation_level="AUTOCOMMIT")
                c.execute(sa.text("SELECT * FROM migr_upgrade('head')")).fetchall()
                c.execute(sa.text("SELECT migr_wait()"))
            again, _, _ = migr_statements()
            if again:
                problems.append("after the upgrade migr still finds: %s" % again)
        except Exception as e:       # noqa: BLE001 - reported, the test fails
            problems.append("applying the revision failed: %s" % e)
    if problems:
        failed += 1
        print("not ok %d - step %d (%s): %s" % (i, n, what, "; ".join(problems)))
        print("# " + joined.replace("\n", "\n# "))
    else:
        print("ok %d - step %d (%s): Alembic %s, migr %d statements" %
              (i, n, what, "finds %d" % len(seen) if seen else "finds nothing", len(stmts)))
sys.exit(1 if failed else 0)
