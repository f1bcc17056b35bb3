# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""report.html in a real browser (Debian's chromium, headless): the rendered DOM has the chart
elements per component, the matrix cells per site x service with their states and the SLO rows;
the screenshot is a PNG that shows the report's colours, not a blank page."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report
from tests.unit.plugins.plugin_utils.test_report import (
    AFTER, BEFORE, PROBES, SLO_YAML, make_doc, record, write_json)

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-extensions",
         "--no-first-run", "--disable-background-networking", "--disable-sync", "--mute-audio"]


def chromium(profile, *args):
    assert os.access(CHROMIUM, os.X_OK), "chromium (Debian package chromium) is needed: tests/tools/apt-packages.txt"
    proc = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=%s" % profile] + list(args),
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return proc.stdout.decode("utf-8")


class Dom(HTMLParser):
    """Elements as (tag, attrs, ancestors' tags+attrs) with the text directly inside each."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "line", "circle", "path"}

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.stack = []
        self.elements = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "parents": list(self.stack), "text": ""}
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "parents": list(self.stack), "text": ""})

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1]["text"] += data

    def find(self, tag, cls=None, within=None):
        out = []
        for el in self.elements:
            if el["tag"] != tag or (cls and cls not in el["attrs"].get("class", "").split()):
                continue
            if within is not None and within not in el["parents"]:
                continue
            out.append(el)
        return out


def png_pixels(data):
    """(width, height, rows of RGBA tuples) of an 8-bit RGB/RGBA non-interlaced PNG (what chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, colour, dummy, dummy2, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return width, height, rows


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    base = make_doc([record("kpt_render/edge1", "kpt_render", BEFORE), record("git/status", "git", BEFORE),
                     record("git/log", "git", AFTER)], run_id="base")
    doc = make_doc([record("kpt_render/edge1", "kpt_render", AFTER), record("git/status", "git", BEFORE),
                    record("git/log", "git", BEFORE), record("file_io/write", "file_io", [400.0, 410.0], unit="MB/s")],
                   probes=PROBES, tasks=[("render", 12.5), ("<b>bold</b>", 2.0)])
    (tmp / "slo.yml").write_text(SLO_YAML.replace("value: 0.5", "value: 0.05"))  # git/status median 1 s fails
    result = _report.generate({"results": [write_json(tmp / "r.json", doc)], "baseline": [write_json(tmp / "b.json", base)],
                               "slo_file": str(tmp / "slo.yml"), "dest": str(tmp / "reports"), "title": "browser"},
                              {}, "2026-11-28T14:00:00.000Z")
    url = "file://" + result["files"]["html"]
    profile = str(tmp / "profile")
    dom_text = chromium(profile, "--dump-dom", url)
    shot = str(tmp / "shot.png")
    chromium(profile, "--window-size=1000,2400", "--force-device-scale-factor=0.5", "--screenshot=%s" % shot, url)
    dom = Dom()
    dom.feed(dom_text)
    yield {"dom": dom, "dom_text": dom_text, "shot": shot, "result": result}
    shutil.rmtree(profile, ignore_errors=True)


def test_rendered_charts_have_bars_and_intervals_per_component(rendered):
    dom = rendered["dom"]
    figures = dict((f["attrs"]["data-component"], f) for f in dom.find("figure", "chart"))
    assert sorted(figures) == ["file_io", "git", "kpt_render"]
    for component, rows in (("git", 2), ("kpt_render", 1), ("file_io", 1)):
        svg = dom.find("svg", "component-chart", within=figures[component])
        assert len(svg) == 1
        assert len(dom.find("g", "row", within=svg[0])) == rows
        assert len(dom.find("rect", "after", within=svg[0])) == rows  # the median of this run, every row
    kpt = figures["kpt_render"]
    assert len(dom.find("rect", "before", within=kpt)) == 1
    ci = dom.find("line", "ci", within=kpt)
    assert len(ci) == 1 and "v-faster" in ci[0]["attrs"]["class"]
    assert float(ci[0]["attrs"]["x2"]) > float(ci[0]["attrs"]["x1"])  # a real interval, lo < hi
    assert len(dom.find("circle", "ratio", within=kpt)) == 1
    git_rows = dom.find("g", "row", within=figures["git"])
    assert sorted(r["attrs"]["data-verdict"] for r in git_rows) == ["no clear change", "slower"]
    assert len(dom.find("line", "ci", within=figures["git"])) == 2
    assert dom.find("circle", "ratio", within=figures["file_io"]) == []  # only in this run: nothing to compare
    assert len(dom.find("rect", "task-bar")) == 2


def test_rendered_matrix_has_a_cell_per_site_and_service_with_its_state(rendered):
    dom = rendered["dom"]
    cells = dom.find("td", "cell", within=dom.find("table", "matrix")[0])
    got = dict(((c["attrs"]["data-site"], c["attrs"]["data-service"]),
                (c["attrs"]["data-state"], c["text"].strip(), c["attrs"]["class"])) for c in cells)
    assert len(got) == 3 * 2
    for site, service, state in PROBES:
        assert got[(site, service)][:2] == (state, state) and "state-" + state in got[(site, service)][2]
    assert got[("edge3", "kubernetes")][:2] == ("", "-")
    status = [c["text"] for c in dom.find("td", "site-status")]
    assert status == ["up", "down", "up"]


def test_rendered_slo_table_rows(rendered):
    dom = rendered["dom"]
    rows = dom.find("tr", "slo-row")
    assert [(r["attrs"]["data-objective"], r["attrs"]["data-status"]) for r in rows] == [
        ("kpt-render-p95", "pass"), ("git-status-median", "fail")]
    reasons = [el["text"] for el in dom.elements if el["tag"] == "td" and rows[1] in el["parents"]]
    assert any("git/status on ctl at 1 s" in t for t in reasons)
    assert "<b>bold</b>" in [el["text"] for el in dom.find("td")]  # shown as text, not made bold
    assert dom.find("b", within=dom.find("table", "tasks")[0]) == []


def test_screenshot_shows_the_report_not_a_blank_page(rendered):
    with open(rendered["shot"], "rb") as handle:
        data = handle.read()
    assert len(data) > 20000
    width, height, rows = png_pixels(data)
    assert (width, height) == (500, 1200)
    counts = {}
    for row in rows:
        for px in row:
            counts[px] = counts.get(px, 0) + 1
    assert len(counts) > 50 and max(counts.values()) < 0.95 * width * height

    def near(rgb, tol=6):
        return sum(n for px, n in counts.items() if all(abs(a - b) <= tol for a, b in zip(px, rgb)))
    assert near((0xc9, 0xf0, 0xd3)) > 200  # green "up" cells of the matrix
    assert near((0xf9, 0xd0, 0xcc)) > 100  # red cells (refused, host_key_mismatch, down)
    assert near((0xc8, 0x37, 0x2d)) > 20   # the slower bar of git/log
    assert near((0x1f, 0x8a, 0x4c)) > 20   # the faster bar of kpt_render/edge1
