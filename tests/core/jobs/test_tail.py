"""FileTail on real files: appends, partial lines, truncation, rotation, capped reads."""

import os

from core.jobs.tail import FileTail


def append(path, text):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def test_missing_file_then_only_new_complete_lines(tmp_path):
    path = tmp_path / "job.log"
    tail = FileTail(path)
    assert tail.read().text == ""
    append(path, "one\ntwo\nthr")
    assert tail.read().lines == ["one", "two"]
    assert tail.read().text == ""
    append(path, "ee\nfour\n")
    chunk = tail.read()
    assert chunk.lines == ["three", "four"] and not chunk.reset
    assert tail.offset == path.stat().st_size


def test_reads_only_the_new_bytes(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text("x" * 99 + "\n" * 1 + "old\n" * 10_000)
    tail = FileTail(path)
    tail.read()
    append(path, "new\n")
    reads = []
    real_pread = os.pread

    def counting_pread(fd, size, offset):
        data = real_pread(fd, size, offset)
        reads.append(len(data))
        return data

    os.pread = counting_pread
    try:
        assert tail.read().lines == ["new"]
    finally:
        os.pread = real_pread
    assert sum(reads) <= 64 + len("new\n")  # the check bytes before the offset, then the new line


def test_truncation_restarts_from_the_beginning(tmp_path):
    path = tmp_path / "job.log"
    append(path, "a\nb\nc\n")
    tail = FileTail(path)
    assert tail.read().lines == ["a", "b", "c"]
    path.write_text("fresh\n")  # truncated and rewritten, shorter than before
    chunk = tail.read()
    assert chunk.reset and chunk.lines == ["fresh"]


def test_truncated_and_regrown_past_the_old_offset_is_noticed(tmp_path):
    path = tmp_path / "job.log"
    append(path, "a\nb\n")
    tail = FileTail(path)
    tail.read()
    path.write_text("a longer first line\nsecond\n")  # larger than the old offset
    chunk = tail.read()
    assert chunk.reset and chunk.lines == ["a longer first line", "second"]


def test_rotation_follows_the_new_file(tmp_path):
    path = tmp_path / "job.log"
    append(path, "first file line 1\nfirst file line 2\n")
    tail = FileTail(path)
    tail.read()
    path.rename(tmp_path / "job.log.1")
    assert tail.read().text == ""  # between rotation and the new file: nothing, no error
    append(path, "second file line 1 is long enough to pass the old offset........\n")
    chunk = tail.read()
    assert chunk.reset
    assert chunk.lines == ["second file line 1 is long enough to pass the old offset........"]


def test_first_read_of_a_huge_file_is_capped_at_a_line_boundary(tmp_path):
    path = tmp_path / "huge.log"
    with open(path, "w") as handle:
        for i in range(200_000):
            handle.write(f"line {i}\n")
    tail = FileTail(path, first_read_max=1000)
    chunk = tail.read()
    assert 0 < len(chunk.text) <= 1000 and chunk.skipped > 0
    assert chunk.lines[-1] == "line 199999"
    assert chunk.lines[0].startswith("line ") and int(chunk.lines[0].split()[1]) > 199_000
    append(path, "after\n")
    assert tail.read().lines == ["after"]


def test_reads_are_chunked_and_partial_utf8_survives(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(("é" * 10 + "\n").encode() * 50)
    tail = FileTail(path, chunk=64)
    lines, reads = [], 0
    while True:
        chunk = tail.read()
        lines += chunk.lines
        reads += 1
        if not chunk.more:
            break
    assert reads > 5
    assert lines == ["é" * 10] * 50


def test_a_line_without_end_longer_than_a_chunk_is_handed_over(tmp_path):
    path = tmp_path / "progress.log"
    path.write_text("x" * 100)
    tail = FileTail(path, chunk=10)
    texts = []
    for _ in range(20):
        texts.append(tail.read().text)
    assert "".join(texts).replace("\n", "") == "x" * 100
