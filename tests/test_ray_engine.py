"""``annotate --engine ray``: the same records as the single-machine path, error rows, resume,
JSONL/Parquet sources, a retried chunk after a killed worker, and a two-node cluster on
loopback. Rules detector without stance (fast, no weights); skipped where ray is absent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from quotestance.batch import PipelineFactory
from quotestance.cli import main

pq = pytest.importorskip("pyarrow.parquet")

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_fe90af5ba305cfe1.txt"
TEXTS = [
    "„Wir kommen morgen“, sagte der Bürgermeister. Er habe keine Zeit gehabt.",
    "Die Polizei teilte mit, dass drei Menschen verletzt worden seien.",
    "Ein ruhiger Tag ohne Zitate.",
    "John Kerry sagte, man sei bereit. Kerry fügte hinzu: „Wir warten nicht länger.“",
]
RULES = ["--detector", "rules", "--no-stance", "--no-progress"]


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray instance (2 CPUs) for the module, started as the engine starts its own
    (on 127.0.0.1 only); the engine joins it and leaves it up."""
    ray = pytest.importorskip("ray")
    from quotestance.engines.ray_data import start_local

    if not ray.is_initialized():
        start_local(num_cpus=2, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "00_seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    for i in range(7):
        (folder / f"{i + 1:02d}.txt").write_text(TEXTS[i % len(TEXTS)], encoding="utf-8")
    (folder / "05b_broken.txt").write_bytes(b"\x00\x01\x02 not text")
    return folder


def _documents(out: Path) -> list[dict]:
    return sorted(pq.read_table(out / "documents").to_pylist(), key=lambda r: r["position"])


def _quotes(out: Path) -> list[dict]:
    rows = pq.read_table(out / "quotes").to_pylist()
    return sorted(rows, key=lambda r: (r["file"], int((r["id"] or "q0")[1:])))


@pytest.mark.slow
def test_same_records_and_rows_as_the_single_machine_path(ray_local, corpus, tmp_path, capsys):
    local, table, out = tmp_path / "local.jsonl", tmp_path / "local.parquet", tmp_path / "ray"
    batch = ["--batch-size", "3"]  # several chunks over the two actors; same on both sides
    main(["annotate", str(corpus), "--format", "jsonl", "-o", str(local), *RULES, *batch])
    main(["annotate", str(corpus), "--format", "parquet", "-o", str(table), *RULES, *batch])
    capsys.readouterr()
    code = main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES, *batch,
                 "--ray-actors", "2"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1  # the broken file
    assert "05b_broken.txt: binary file" in err and "Traceback" not in err
    expected = [json.loads(line) for line in local.read_text(encoding="utf-8").splitlines()]
    documents = _documents(out)
    assert [json.loads(d["record"]) for d in documents] == expected
    assert [d["n_quotes"] for d in documents] == [len(r["quotes"]) for r in expected]
    assert [bool(d["error"]) for d in documents] == [bool(r.get("error")) for r in expected]
    seed = json.loads(documents[0]["record"])
    assert seed["file"].endswith("00_seed.txt") and len(seed["quotes"]) > 5
    local_rows = sorted(pq.read_table(table).to_pylist(),
                        key=lambda r: (r["file"], int((r["id"] or "q0")[1:])))  # fmt: skip
    assert _quotes(out) == local_rows


@pytest.mark.slow
def test_resume_skips_done_documents_and_retries_errors(ray_local, corpus, tmp_path, capsys):
    out = tmp_path / "ray"
    assert main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES]) == 1
    assert main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES]) == 2
    assert "add --resume" in capsys.readouterr().err
    (corpus / "05b_broken.txt").write_text(TEXTS[0], encoding="utf-8")  # fixed
    (corpus / "09_new.txt").write_text(TEXTS[3], encoding="utf-8")
    code = main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES, "--resume"])
    assert code == 0
    assert "resume: 8 document(s) already" in capsys.readouterr().err
    documents = pq.read_table(out / "documents").to_pylist()
    names = sorted(d["file"] for d in documents)
    assert names == sorted(str(p) for p in corpus.glob("*.txt"))  # each once, no error rows
    assert not any(d["error"] for d in documents)
    assert len(_quotes(out)) == sum(d["n_quotes"] for d in documents)


@pytest.mark.slow
def test_a_broken_out_is_one_line(ray_local, corpus, tmp_path, capsys):
    out = tmp_path / "ray"
    (out / "documents").mkdir(parents=True)
    (out / "documents" / "x.parquet").write_bytes(b"PAR1 not parquet")
    code = main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES, "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert err.startswith(f"quotestance: {out / 'documents'}: cannot read or write it")


@pytest.mark.slow
def test_jsonl_and_parquet_sources(ray_local, tmp_path):
    pa = pytest.importorskip("pyarrow")
    lines = [json.dumps({"id": f"doc-{i}", "body": TEXTS[i]}, ensure_ascii=False) for i in range(3)]
    lines.insert(1, "{not json")
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = tmp_path / "news.parquet"
    pq.write_table(pa.table({"body": TEXTS}), table)
    out = tmp_path / "ray"
    code = main(["annotate", "--engine", "ray", str(jsonl), str(table), "-o", str(out), *RULES,
                 "--text-column", "body"])  # fmt: skip
    assert code == 1  # the line that is not JSON
    documents = _documents(out)
    assert [d["file"] for d in documents] == [
        "doc-0",
        f"{jsonl}#2",
        "doc-1",
        "doc-2",
        *(f"{table}#{n}" for n in range(1, 5)),
    ]
    assert documents[1]["error"].startswith(f"{jsonl}#2: not JSON")
    first = json.loads(documents[0]["record"])
    assert first["file"] == "doc-0" and "Wir kommen morgen" in first["quotes"][0]["text"]
    assert documents[0]["record"] == documents[4]["record"].replace(f"{table}#1", "doc-0")


@pytest.mark.slow
def test_tables_give_the_records_of_the_local_engine(ray_local, tmp_path, capsys):
    """JSONL, CSV and Parquet rows (good, bad, a duplicate id) read by the one reader of
    ``quotestance.tables``: the Ray documents hold the records ``annotate`` writes locally,
    and the quote rows those of ``--format parquet``."""
    pa = pytest.importorskip("pyarrow")
    ids = [f"doc-{i}" for i in range(len(TEXTS))]
    jsonl = tmp_path / "news.jsonl"
    lines = [json.dumps({"id": ids[k], "text": t}, ensure_ascii=False) for k, t in enumerate(TEXTS)]
    jsonl.write_text("\n".join([*lines, "{not json", lines[0]]) + "\n", encoding="utf-8")
    table = tmp_path / "news.csv"
    rows = "".join(f'c{k},"{t.replace(chr(34), 2 * chr(34))}"\n' for k, t in enumerate(TEXTS))
    table.write_bytes(("url,body\n" + rows).encode() + b"c9,caf\xe9\n")
    parquet = tmp_path / "news.parquet"
    pq.write_table(pa.table({"url": ["p0", "p1", None], "body": [TEXTS[3], None, TEXTS[0]]}),
                   parquet)  # fmt: skip
    args = [str(jsonl), str(table), str(parquet), *RULES, "--batch-size", "3"]
    local, quotes, out = tmp_path / "local.jsonl", tmp_path / "local.parquet", tmp_path / "ray"
    for source in (jsonl, table, parquet):  # the columns differ: one run per source
        options = [] if source == jsonl else ["--text-column", "body", "--id-column", "url"]
        main(["annotate", str(source), "--format", "jsonl", "-o", f"{local}.{source.suffix}",
              *args[3:], *options])  # fmt: skip
    capsys.readouterr()
    expected = []
    for source in (jsonl, table, parquet):
        text = Path(f"{local}.{source.suffix}").read_text(encoding="utf-8")
        expected += [json.loads(line) for line in text.splitlines()]
    records = []
    for k, source in enumerate((jsonl, table, parquet)):
        options = [] if source == jsonl else ["--text-column", "body", "--id-column", "url"]
        code = main(["annotate", "--engine", "ray", str(source), "-o", str(out / str(k)),
                     *args[3:], *options, "--ray-actors", "2"])  # fmt: skip
        assert code == 1, capsys.readouterr().err
        records += [json.loads(d["record"]) for d in _documents(out / str(k))]
    assert records == expected
    errors = {r["file"]: r.get("error") for r in expected}
    assert list(errors) == [*ids, f"{jsonl}#5", f"{jsonl}#6", "c0", "c1", "c2", "c3",
                            f"{table}#5", "p0", "p1", f"{parquet}#3"]  # fmt: skip
    assert errors[f"{jsonl}#6"] == f"{jsonl}#6: the name 'doc-0' is already the name of row 1"
    assert errors[f"{table}#5"].startswith(f"{table}#5: not UTF-8")
    assert errors["p1"] == "p1: no text in column 'body'"
    assert errors[f"{parquet}#3"] == f"{parquet}#3: no value in the id column 'url'"
    main(["annotate", str(parquet), "--format", "parquet", "-o", str(quotes), *args[3:],
          "--text-column", "body", "--id-column", "url"])  # fmt: skip
    local_rows = sorted(pq.read_table(quotes).to_pylist(),
                        key=lambda r: (r["file"], int((r["id"] or "q0")[1:])))  # fmt: skip
    assert _quotes(out / "2") == local_rows


def test_a_missing_table_column_stops_before_ray_starts(tmp_path, capsys, monkeypatch):
    ray = pytest.importorskip("ray")
    pa = pytest.importorskip("pyarrow")
    from quotestance.engines import ray_data

    def no_start(*_args, **_kwargs):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray, "init", no_start)
    monkeypatch.setattr(ray_data, "_start_ray", no_start)
    table = tmp_path / "news.csv"
    table.write_text("id,body\na,Text.\n", encoding="utf-8")
    parquet = tmp_path / "news.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": ["Text."]}), parquet)
    out = tmp_path / "o"
    for args, message in (
        ([str(table)], f"{table}: no column 'text' (--text-column;"),
        ([str(tmp_path / "*.parquet"), "--name-column", "url"], f"{parquet}: no column 'url'"),
    ):
        code = main(["annotate", "--engine", "ray", *args, "-o", str(out), *RULES])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"quotestance: {message}") and err.count("\n") == 1
    assert not out.exists()


LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}


def _process_tree(*roots: int) -> set[int]:
    psutil = pytest.importorskip("psutil")
    pids: set[int] = set()
    for root in roots:
        try:
            pids.add(root)
            pids.update(child.pid for child in psutil.Process(root).children(recursive=True))
        except psutil.Error:
            pass
    return pids


def _open_ports(pids: set[int]) -> list[tuple[str, int, str]]:
    """(address, port, kind) of every listening TCP socket and bound UDP socket of ``pids``."""
    psutil = pytest.importorskip("psutil")
    found = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.pid not in pids or not conn.laddr:
            continue
        if conn.status == psutil.CONN_LISTEN:
            found.append((conn.laddr.ip, conn.laddr.port, "tcp"))
        elif conn.type == socket.SOCK_DGRAM and not conn.raddr:
            found.append((conn.laddr.ip, conn.laddr.port, "udp"))
    return found


@pytest.mark.slow
def test_a_local_instance_is_on_loopback_only(ray_local, corpus, tmp_path):
    """Ray's own view (the node address) and the kernel's (every port its processes, actors
    included, listen on) say 127.0.0.1 only."""
    ray = ray_local

    @ray.remote
    class Probe:
        def pid(self) -> int:
            return os.getpid()

    probe = Probe.remote()
    actor_pid = ray.get(probe.pid.remote())
    out = tmp_path / "ray"
    assert main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES]) == 1
    assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    pids = _process_tree(os.getpid())
    assert actor_pid in pids  # the tree holds Ray's processes and its workers
    ports = _open_ports(pids)
    assert len({port for _, port, _ in ports}) >= 3, ports  # GCS, raylet, workers at least
    assert [p for p in ports if p[0] not in LOOPBACK] == [], ports
    ray.kill(probe)
    if "RAY_AUTH_MODE" not in os.environ:  # a new local instance has token authentication
        from ray._raylet import AuthenticationMode, get_authentication_mode

        assert get_authentication_mode() == AuthenticationMode.TOKEN


@pytest.mark.slow
def test_bad_rows_are_error_rows(ray_local, tmp_path, capsys):
    """Rows a hostile source may hold: each is an error row naming its problem, the others
    are annotated, and the driver never stops."""
    pa = pytest.importorskip("pyarrow")
    big = "x" * 3000  # over --max-mb 0.002 (2097 bytes)
    lines = [
        json.dumps({"id": "good", "text": TEXTS[0]}, ensure_ascii=False),
        '{"id": "lone", "text": "Er sagte \\ud800 nichts."}',  # a lone surrogate in the text
        '{"id": "bad\\udc00id", "text": "Text."}',  # ... in the name
        '{"id": "two\\nlines", "text": "Text."}',  # a line break in the name
        '{"id": {"a": 1}, "text": "Text."}',  # a name that is no string
        '{"id": "nul", "text": "a\\u0000b"}',  # a NUL in the text
        '{"id": "number", "text": 42}',
        json.dumps({"id": "big", "text": big}),
        "[" * 100_000,  # deeper than the JSON parser goes
        '"just a string"',
    ]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    raw += b'{"id": "latin1", "text": "\xe4"}\n'  # not UTF-8
    raw += b'{"id": "huge", "text": "' + b"y" * (2 << 20) + b'"}\n'  # a line over any limit
    raw += json.dumps({"id": "last", "text": TEXTS[1]}, ensure_ascii=False).encode() + b"\n"
    jsonl = tmp_path / "hostile.jsonl"
    jsonl.write_bytes(raw)
    table = tmp_path / "hostile.parquet"
    text = pa.array([TEXTS[3].encode(), None, big.encode(), b"\xff\xfe"]).view(pa.string())
    pq.write_table(pa.table({"id": ["p-good", "p-null", "p-big", "p-bad"], "text": text}), table)
    out = tmp_path / "ray"
    code = main(["annotate", "--engine", "ray", str(jsonl), str(table), "-o", str(out), *RULES,
                 "--max-mb", "0.002"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    documents = _documents(out)
    assert [d["position"] for d in documents] == list(range(17))  # each once
    errors = {d["file"]: d["error"] for d in documents}
    limit = f"{int(0.002 * 2**20) / 2**20:g} MiB"
    expected = {
        "good": None,
        "lone": "lone: the text in 'text' is not valid Unicode (a lone surrogate",
        f"{jsonl}#3": f"{jsonl}#3: the name in 'id' is not valid Unicode (a lone surrogate",
        f"{jsonl}#4": f"{jsonl}#4: the name in 'id' holds a control character",
        f"{jsonl}#5": f"{jsonl}#5: the name in 'id' is a dict, not a string",
        "nul": "nul: binary file, not text",
        "number": "number: no text in column 'text'",
        "big": f"big: input over the {limit} limit",
        f"{jsonl}#9": f"{jsonl}#9: not JSON (maximum recursion depth",
        f"{jsonl}#10": f"{jsonl}#10: not a JSON object",
        f"{jsonl}#11": f"{jsonl}#11: not UTF-8 (byte ",
        f"{jsonl}#12": f"{jsonl}#12: line over the limit for a {limit} text",
        "last": None,
        "p-good": None,
        "p-null": "p-null: no text in column 'text'",
        "p-big": f"p-big: input over the {limit} limit",
        f"{table}#4": f"{table}#4: unreadable row (",
    }
    assert list(errors) == list(expected)
    for name, start in expected.items():
        if start is None:
            assert errors[name] is None, (name, errors[name])
        else:
            assert errors[name] and errors[name].startswith(start), (name, errors[name])
            assert errors[name] in err  # one line each on standard error
    assert json.loads(documents[0]["record"])["quotes"]  # the good rows are annotated
    assert json.loads(documents[13]["record"])["quotes"]
    assert len(_quotes(out)) == sum(d["n_quotes"] for d in documents) + 14  # + error rows


class _DiesOnce:
    """A pipeline factory that kills its actor's process twice, to make Ray restart it and
    retry the chunk: once in the pipeline (the chunk's first attempt, nothing written yet),
    once right after a chunk's file of OUT/documents is written (the retry writes it again).
    Marker files make each happen once per test, whichever process gets there."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self):
        from quotestance.engines import ray_data

        pipeline = PipelineFactory("rules", stance=False)()
        in_pipe, after_write = (
            Path(self.folder, "died-in-pipe"),
            Path(self.folder, "died-after-write"),
        )
        pipe, write = pipeline.pipe, ray_data.write_atomic

        def dying_pipe(docs, batch_size=16):
            if not in_pipe.exists():
                in_pipe.touch()
                os._exit(1)
            return pipe(docs, batch_size=batch_size)

        def dying_write(table, path):
            write(table, path)
            if path.parent.name == "documents" and not after_write.exists():
                after_write.touch()
                os._exit(1)

        pipeline.pipe = dying_pipe
        ray_data.write_atomic = dying_write  # in the actor's process only
        return pipeline


@pytest.mark.slow
def test_a_retried_chunk_is_written_once(ray_local, corpus, tmp_path, capsys):
    from quotestance.engines.ray_data import RayOptions, run

    (corpus / "05b_broken.txt").unlink()
    local, table = tmp_path / "local.jsonl", tmp_path / "local.parquet"
    batch = ["--batch-size", "3"]
    main(["annotate", str(corpus), "--format", "jsonl", "-o", str(local), *RULES, *batch])
    main(["annotate", str(corpus), "--format", "parquet", "-o", str(table), *RULES, *batch])
    capsys.readouterr()
    out = tmp_path / "ray"
    result = run([str(corpus)], _DiesOnce(str(tmp_path)),
                 RayOptions(str(out), actors=1, batch_size=3))  # fmt: skip
    assert (tmp_path / "died-in-pipe").exists() and (tmp_path / "died-after-write").exists()
    assert result.errors == [] and result.documents == 8
    documents = _documents(out)
    assert [d["position"] for d in documents] == list(range(8))  # each document once
    expected = [json.loads(line) for line in local.read_text(encoding="utf-8").splitlines()]
    assert [json.loads(d["record"]) for d in documents] == expected
    local_rows = sorted(pq.read_table(table).to_pylist(),
                        key=lambda r: (r["file"], int((r["id"] or "q0")[1:])))  # fmt: skip
    assert _quotes(out) == local_rows  # each quote once
    assert sorted(p.name for p in out.iterdir()) == ["documents", "quotes"]  # no leftovers
    assert not [p for p in (out / "documents").iterdir() if p.name.startswith(".")]


def test_usage_errors(corpus, tmp_path, capsys, monkeypatch):
    assert main(["annotate", "--engine", "ray", str(corpus), *RULES]) == 2
    assert "give -o OUT/" in capsys.readouterr().err
    out = str(tmp_path / "o")
    assert main(["annotate", "--engine", "ray", str(corpus), "-o", out, "--format", "jsonl"]) == 2
    assert "Parquet only" in capsys.readouterr().err
    assert main(["annotate", str(corpus), "--ray-actors", "2", *RULES]) == 2
    assert "--ray-actors is an option of --engine ray" in capsys.readouterr().err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ray" else real(n))
    assert main(["annotate", "--engine", "ray", str(corpus), "-o", out, *RULES]) == 3
    err = capsys.readouterr().err
    assert err.strip() == "quotestance: ray is not installed: pip install 'quotestance[ray]'"


def test_bad_options_stop_before_ray_starts(corpus, tmp_path, capsys, monkeypatch):
    """Exit 2 and one line, with Ray not started and OUT/ not created."""
    ray = pytest.importorskip("ray")
    from quotestance.engines import ray_data

    def no_start(*_args, **_kwargs):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray, "init", no_start)
    monkeypatch.setattr(ray_data, "_start_ray", no_start)
    out = tmp_path / "o"
    addresses = ("", "  ", "local", "myhost", "myhost:0", "myhost:70000", "http://myhost:80",
                 "ray://myhost", "h:port", "a b:1", "myhost:6379 ")  # fmt: skip
    bad = [
        *(["--address", a] for a in addresses),
        *(["--cpus-per-actor", c] for c in ("inf", "nan", "0", "-1", "1e-9", "1e400")),
        *(["--ray-actors", n] for n in ("0", "-1")),
        *(["--batch-size", n] for n in ("0", "-1")),
        *(["--max-mb", m] for m in ("inf", "nan", "0", "-1", "1e-9", "1e300")),
    ]
    for option in bad:
        code = main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), *RULES, *option])
        err = capsys.readouterr().err.strip()
        assert code == 2, (option, err)
        assert err.startswith("quotestance: ") and "\n" not in err, (option, err)
        assert option[0] in err, (option, err)
    assert not out.exists()
    with pytest.raises(SystemExit) as exit_:  # not a whole number: refused by argparse
        main(["annotate", "--engine", "ray", str(corpus), "-o", str(out), "--ray-actors", "inf"])
    assert exit_.value.code == 2 and "--ray-actors" in capsys.readouterr().err
    options = ray_data.RayOptions(str(out), cpus_per_actor=float("inf"))
    with pytest.raises(ray_data.UsageError, match="--cpus-per-actor"):  # the API checks too
        ray_data.run([str(corpus)], PipelineFactory("rules", stance=False), options)
    assert not out.exists()


@pytest.mark.slow
def test_an_unreachable_cluster_leaves_out_alone(corpus, tmp_path):
    """One line and exit 3 within seconds, and OUT/ byte for byte as it was: a --resume run
    reaches the cluster before it drops the error rows of OUT/documents. In a fresh process
    (this one may hold the local test instance already)."""
    pa = pytest.importorskip("pyarrow")
    from quotestance.engines.ray_data import DOCUMENT_SCHEMA

    out = tmp_path / "o"
    (out / "documents").mkdir(parents=True)
    rows = [{"file": "a", "position": 0, "error": None, "n_quotes": 0, "warnings": None,
             "record": '{"file": "a", "quotes": []}'},
            {"file": "b", "position": 1, "error": "b: failed", "n_quotes": 0, "warnings": None,
             "record": '{"file": "b", "quotes": [], "error": "b: failed"}'}]  # fmt: skip
    pq.write_table(
        pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), out / "documents" / "x.parquet"
    )
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    port = _free_port()  # nobody listens there: refused at once, not minutes of Ray retries
    cmd = [sys.executable, "-m", "quotestance.cli", "annotate", "--engine", "ray", str(corpus),
           "-o", str(out), "--address", f"127.0.0.1:{port}", "--resume", *RULES]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    err = done.stderr.strip()
    assert err.startswith("quotestance: cannot reach the Ray cluster at 127.0.0.1:")
    assert "\n" not in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(out.rglob("*")) == [out / "documents", out / "documents" / "x.parquet"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive_nodes(address: str, env: dict) -> list[str]:
    """The addresses of the cluster's live nodes, as a driver on loopback sees them."""
    probe = (
        "import ray\n"
        "from quotestance.engines.ray_data import loopback_node\n"
        "with loopback_node():\n"
        f"    ray.init(address={address!r}, log_to_driver=False)\n"
        "print(*sorted(n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']))"
    )
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    lines = done.stdout.strip().splitlines() if done.returncode == 0 else []
    return lines[-1].split() if lines else []


# `ray start` keeping --node-ip-address 127.0.0.1: Ray 2.60 would replace it by the machine's
# network address (and listen on every interface); see ray_data.loopback_node
RAY_START = (
    "import sys, ray._private.services as s\n"
    "s.resolve_ip_for_localhost = lambda host: host\n"
    "from ray.scripts.scripts import main\n"
    "sys.argv[0] = 'ray'\n"
    "sys.exit(main())"
)


@pytest.mark.slow
def test_a_head_and_a_worker_node_on_loopback(corpus, tmp_path):
    """Two nodes as separate ``ray start`` processes, on 127.0.0.1 only (Ray's view and the
    ports their processes listen on). They run with ``--block`` and are stopped by their
    process ids (which stops what each started): ``ray stop`` would stop every Ray process
    of the machine, other users' runs included."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # this test drives its own cluster from other processes
        ray.shutdown()
    temp = tempfile.mkdtemp(prefix="qsray-", dir="/tmp")  # short: Ray's sockets live here
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # a private test cluster: no token (Ray 2.60 turns token auth on for `ray start` only)
    # and stopped at once (no drain: the run is over; Ray would wait 30 s a node)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled",
           "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}  # fmt: skip
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--temp-dir", temp,
              "--disable-usage-stats", "--block"]  # fmt: skip
    nodes: list[subprocess.Popen] = []
    log = (tmp_path / "nodes.log").open("w")
    try:
        nodes.append(subprocess.Popen(
            [sys.executable, "-c", RAY_START, "start", "--head", "--port", str(port),
             "--include-dashboard", "false", *common],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        assert _wait_for(lambda: _accepts("127.0.0.1", port)), _tail(log)  # the head's GCS
        nodes.append(subprocess.Popen(
            [sys.executable, "-c", RAY_START, "start", "--address", address, *common],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        assert _wait_for(lambda: _alive_nodes(address, env) == ["127.0.0.1"] * 2), _tail(log)
        out = tmp_path / "ray"
        run = subprocess.run(
            [sys.executable, "-m", "quotestance.cli", "annotate", "--engine", "ray",
             "--address", address, str(corpus), "-o", str(out), *RULES, "--batch-size", "2"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 1, run.stderr  # the broken file
        assert "on 2 actor(s)" in run.stderr
        documents = _documents(out)
        assert [d["file"] for d in documents] == sorted(str(p) for p in corpus.glob("*.txt"))
        assert sum(bool(d["error"]) for d in documents) == 1
        assert len(_quotes(out)) == sum(d["n_quotes"] for d in documents) + 1  # + error row
        ports = _open_ports(_process_tree(*(node.pid for node in nodes)))
        assert len(ports) >= 6 and [p for p in ports if p[0] not in LOOPBACK] == [], ports
    finally:
        for node in reversed(nodes):
            node.terminate()
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _tail(log) -> str:
    log.flush()
    return Path(log.name).read_text()[-2000:]


def _wait_for(check, seconds: float = 90) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return False
