"""Hostile ``--actors`` files (issue 12, row 10): alias bombs, huge files, empty and non-string
keys and values, control characters; one-line messages that never expand a value; one parse
per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from quotestance.speakers import actors
from quotestance.speakers.actors import ActorFileError, ActorRegistry, read_actor_file

ROOT = Path(__file__).resolve().parents[1]
RULES = ["--detector", "rules", "--no-stance"]


def _bomb(levels: int) -> str:
    """An actor whose ``type`` is a billion-laughs list: ``levels`` lists of 9 aliases."""
    lines = ["actors:", "  - name: X", "    type:"]
    lines.append("      - &a0 [" + ",".join(['"lol"'] * 9) + "]")
    for level in range(1, levels):
        lines.append(f"      - &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _error(tmp_path: Path, content: str) -> str:
    path = tmp_path / "actors.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ActorFileError) as info:
        read_actor_file(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_a_small_alias_bomb_is_refused_without_expanding_it(tmp_path):
    message = _error(tmp_path, _bomb(5))  # 59 049 strings if expanded
    assert "aliases (*name) are not allowed" in message
    assert len(message) < 300


def test_the_519_byte_alias_bomb_answers_in_a_second_with_little_memory(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(9), encoding="utf-8")
    script = textwrap.dedent(f"""
        import resource, time
        from quotestance.speakers.actors import ActorFileError, read_actor_file
        start = time.process_time()  # CPU time: a loaded machine does not make it longer
        try:
            read_actor_file({str(path)!r})
        except ActorFileError as err:
            print(len(str(err)))
        print(time.process_time() - start)
        try:  # this process's peak: ru_maxrss keeps the parent's across fork and exec
            with open("/proc/self/status") as status:
                print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
        except OSError:
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, timeout=180)  # fmt: skip
    except subprocess.TimeoutExpired:  # expanded, it runs for minutes and takes gigabytes
        pytest.fail("the alias bomb was still being expanded after 180 s")
    length, seconds, peak_kib = run.stdout.split()
    assert int(length) < 300
    assert float(seconds) < 5.0  # 0.3 s measured; expanding it takes minutes
    assert int(peak_kib) < 200 * 1024


def test_a_merge_key_bomb_is_refused(tmp_path):
    content = "a: &a {x: 1}\nb: &b {<<: [*a, *a, *a]}\nactors: []\n"
    assert "aliases (*name) are not allowed" in _error(tmp_path, content)


def test_an_actor_file_over_the_cap_is_refused_with_its_size(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("actors: []\n")
        handle.write("#" + "x" * actors.MAX_ACTOR_BYTES + "\n")
    size = path.stat().st_size
    start = time.process_time()
    with pytest.raises(ActorFileError) as info:
        read_actor_file(path)
    assert time.process_time() - start < 2
    message = str(info.value)
    assert str(path) in message and f"{size} bytes" in message
    assert f"cap is {actors.MAX_ACTOR_BYTES} bytes" in message and "5 MiB" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_fifo_is_read_only_up_to_the_cap(tmp_path):
    fifo = tmp_path / "actors.fifo"
    os.mkfifo(fifo)
    written = []

    def writer():
        try:
            with open(fifo, "w", encoding="utf-8") as handle:
                handle.write("actors: []\n#" + "x" * (2 * actors.MAX_ACTOR_BYTES))
                written.append("all")
        except BrokenPipeError:
            written.append("stopped")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(ActorFileError, match=f"more than {actors.MAX_ACTOR_BYTES} bytes"):
        read_actor_file(fifo)
    thread.join(10)
    assert written == ["stopped"]  # the reader stopped before the writer was done


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("actors:\n  - {name: X, adjectives: ['']}\n", "actor 1 ('X'): 'adjectives' entry 1 must"),
        ("actors:\n  - {name: X, aliases: [a, ' ']}\n", "actor 1 ('X'): 'aliases' entry 2 must"),
        ("actors:\n  - {name: X, prefixes: ['']}\n", "'prefixes' entry 1 must be a non-empty"),
        ("actors:\n  - {name: X, affiliation: ''}\n", "'affiliation' must be a non-empty"),
        ("actors:\n  - {name: ''}\n", "actor 1: 'name' must be a non-empty string"),
        ("actors:\n  - {name: X}\n  - {name: Y, aliases: [1]}\n",
         "actor 2 ('Y'): 'aliases' entry 1 must be a non-empty string, not an integer"),
        ("actors:\n  - {name: X, 1: a, null: b}\n", "actor 1: field names must be strings"),
        ("actors:\n  - {name: X, ~: b}\n", "field names must be strings, not null"),
        ("actors:\n  - {name: X, [a]: b}\n", "field names must be strings"),
        ("actors:\n  - {name: X, aliases: ~}\n", "'aliases' must be a list of strings, not null"),
        ('actors:\n  - {name: "A\\x01B"}\n', "'name' contains a control character (U+0001)"),
        ('actors:\n  - {name: X, aliases: ["a\\tb"]}\n', "'aliases' entry 1 contains a control"),
        ("actors:\n  - {name: X, type: !!python/object:os.system x}\n", "type a tagged value"),
        ("actors:\n  - {name: 1" + "1" * 5000 + "}\n", "'name' must be a non-empty string, not"),
        ("actors:\n  - " + "[" * 100_000 + "\n", "nest"),
        ("actors: []\n---\nactors: []\n", "more than one document"),
    ],
)  # fmt: skip
def test_bad_values_are_one_line_naming_actor_and_field(tmp_path, content, message):
    assert message in _error(tmp_path, content)


def test_a_lone_surrogate_in_a_name_is_refused(tmp_path):
    message = _error(tmp_path, 'actors:\n  - {name: "A\\ud800"}\n')
    assert "U+D800" in message or "invalid Unicode" in message


def test_messages_show_a_short_preview_never_the_whole_value(tmp_path):
    long = "r" * 10_000
    message = _error(tmp_path, f"actors:\n  - {{name: X, type: {long}}}\n")
    assert "type 'rrrr" in message and len(message) < len(str(tmp_path)) + 200
    message = _error(tmp_path, f"actors:\n  - {{name: {long}, type: [{', '.join(['a'] * 999)}]}}")
    assert "type a list is not one of" in message and len(message) < len(str(tmp_path)) + 200
    message = _error(tmp_path, f"actors:\n  - {{name: X, {long[:1000]}: 1}}\n")
    assert "unknown field 'rrr" in message and len(message) < len(str(tmp_path)) + 200


def test_an_empty_adjective_no_longer_makes_er_a_country(tmp_path):
    path = tmp_path / "actors.yaml"
    path.write_text("actors:\n  - {name: Atlantis, type: country, adjectives: ['']}\n", "utf-8")
    try:
        registry = ActorRegistry.default(path)
    except ActorFileError:
        return
    assert registry.country_of_word("er") is None


def test_the_actor_file_is_parsed_once_per_process(tmp_path, monkeypatch, capsys):
    from quotestance.cli import main

    path = tmp_path / "mine.yaml"
    path.write_text("actors:\n  - {name: Olaf Scholz, type: person, aliases: [Kanzler]}\n", "utf-8")
    text = tmp_path / "a.txt"
    text.write_text("„Wir kommen“, sagte der Kanzler.", encoding="utf-8")
    parses = []
    real = actors._entries_from_yaml

    def counting(content, source):
        if source == str(path):
            parses.append(source)
        return real(content, source)

    monkeypatch.setattr(actors, "_entries_from_yaml", counting)
    assert main(["annotate", str(text), "--actors", str(path), *RULES, "--format", "jsonl"]) == 0
    assert "Olaf Scholz" in capsys.readouterr().out
    read_actor_file(path)
    ActorRegistry.default(path)
    assert len(parses) == 1
    stat = path.stat()
    path.write_text("actors:\n  - {name: Angela Merkel, aliases: [Kanzlerin]}\n", "utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [e.name for e in read_actor_file(path)] == ["Angela Merkel"]  # changed: read again
    assert len(parses) == 2


def test_cli_answers_an_alias_bomb_with_one_line_and_exit_2(tmp_path, capsys):
    from quotestance.cli import main

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_bomb(6), encoding="utf-8")
    text = tmp_path / "a.txt"
    text.write_text("„Wir kommen“, sagte er.", encoding="utf-8")
    assert main(["annotate", str(text), "--actors", str(bomb), *RULES]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "aliases (*name) are not allowed" in err
