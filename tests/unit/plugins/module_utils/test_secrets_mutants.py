# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _secrets.py (see docs/mutation.md)."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _secrets as s


class TestIssuerTokenReason:
    def test_the_whole_reason_names_the_issuers(self):
        # The operator reads this reason next to the field's path; it is the whole message part.
        assert s.secret_value_reason("value ghp_" + "a1B2c3D4e5" * 4 + " end") == \
            "holds a token shaped like an issuer's (AWS, GitHub, GitLab, Slack)"
        assert s.find_secrets({"note": "AKIAIOSFODNN7EXAMPLE"}) == \
            [(("note",), "holds a token shaped like an issuer's (AWS, GitHub, GitLab, Slack)")]


class TestShowableNameBoundaries:
    @pytest.mark.parametrize("name, shown", [
        ("edge1234", True),            # four digits are allowed ("at most 4 digits")
        ("edge12345", False),          # five are not
        ("site_2024_a", True),
    ])
    def test_at_most_four_digits(self, name, shown):
        assert s.showable_name(name) is shown

    @pytest.mark.parametrize("name, shown", [
        ("AbcdefGhijklmnoP", False),   # 16 characters, mixed case, one word: token-like from 16 on
        ("AbcdefGhijklmnP", True),     # 15 characters: short names may be mixed case
        ("abcdefghijklmnop", True),    # 16 characters, all lower case
    ])
    def test_mixed_case_from_sixteen_characters_on_needs_words(self, name, shown):
        assert s.showable_name(name) is shown

    @pytest.mark.parametrize("name", ["Edge_Site_North_One", "Kube-Api-Server-Main", "Ansible_Python_Path"])
    def test_long_mixed_case_names_split_into_words_are_shown(self, name):
        # 16 characters or more, not all lower case, but split into capitalised words by _ or -
        assert len(name) >= 16 and not name.islower()
        assert s.showable_name(name) is True
