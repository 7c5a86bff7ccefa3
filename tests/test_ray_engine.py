"""``annotate --engine ray``: the same records as the single-machine path, error rows, resume,
JSONL/Parquet sources, a retried chunk after a killed worker, and a two-node cluster on
loopback. Rules detector without stance (fast, no weights); skipped where ray is absent."""

from __future__ import annotations

import json
import os
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
    """One local Ray instance (2 CPUs) for the module; the engine joins it and leaves it up."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
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


class _DiesOnce:
    """A pipeline factory whose pipeline kills its worker process at the first batch it sees
    (once per test: a marker file), to check that Ray restarts it and retries the chunk."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self):
        pipeline = PipelineFactory("rules", stance=False)()
        marker, pipe = self.marker, pipeline.pipe

        def dying_pipe(docs, batch_size=16):
            if not os.path.exists(marker):
                Path(marker).touch()
                os._exit(1)
            return pipe(docs, batch_size=batch_size)

        pipeline.pipe = dying_pipe
        return pipeline


def test_a_killed_worker_s_chunk_is_retried(ray_local, corpus, tmp_path):
    from quotestance.engines.ray_data import RayOptions, run

    (corpus / "05b_broken.txt").unlink()
    out = tmp_path / "ray"
    result = run([str(corpus)], _DiesOnce(str(tmp_path / "died")),
                 RayOptions(str(out), actors=1, batch_size=4))  # fmt: skip
    assert (tmp_path / "died").exists()
    assert result.errors == [] and result.documents == 8
    documents = _documents(out)
    assert len(documents) == 8 and not any(d["error"] for d in documents)


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


def test_an_unreachable_cluster_is_one_line_and_exit_3(corpus, tmp_path):
    """In a fresh process (this one may hold the local test instance already)."""
    pytest.importorskip("ray")
    port = _free_port()  # nobody listens there: refused at once, not minutes of Ray retries
    for address, expected in ((f"127.0.0.1:{port}", "cannot reach the Ray cluster at"),
                              ("no:port", "not HOST:PORT")):  # fmt: skip
        cmd = [sys.executable, "-m", "quotestance.cli", "annotate", "--engine", "ray",
               str(corpus), "-o", str(tmp_path / "o"), "--address", address, *RULES]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 3
        err = done.stderr.strip()
        assert err.startswith("quotestance: ") and expected in err
        assert "\n" not in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive_nodes(address: str, env: dict) -> int:
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False); "
             "print(sum(n['Alive'] for n in ray.nodes()))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    return int(done.stdout.split()[-1]) if done.returncode == 0 and done.stdout else 0


def test_a_head_and_a_worker_node_on_loopback(corpus, tmp_path):
    """Two nodes as separate ``ray start`` processes. They run with ``--block`` and are
    stopped by their process ids (which stops what each started): ``ray stop`` would stop
    every Ray process of the machine, other users' runs included."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # this test drives its own cluster from other processes
        ray.shutdown()
    ray_bin = str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="qsray-", dir="/tmp")  # short: Ray's sockets live here
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # a private test cluster: no token (Ray 2.60 turns token auth on for `ray start` only)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--temp-dir", temp,
              "--disable-usage-stats", "--block"]  # fmt: skip
    nodes: list[subprocess.Popen] = []
    log = (tmp_path / "nodes.log").open("w")
    try:
        nodes.append(subprocess.Popen(
            [ray_bin, "start", "--head", "--port", str(port),
             "--include-dashboard", "false", *common],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        assert _wait_for(lambda: _alive_nodes(address, env) == 1), _tail(log)
        nodes.append(subprocess.Popen(
            [ray_bin, "start", "--address", address, *common],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        assert _wait_for(lambda: _alive_nodes(address, env) == 2), _tail(log)
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
    finally:
        for node in reversed(nodes):
            node.terminate()
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        log.close()


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
