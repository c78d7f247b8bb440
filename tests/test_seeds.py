"""The seeds digest: claim ids are unique and well-formed, notes point at real endnotes, the
fact-check corrections are attached, and a malformed claim is refused with a clear message."""
from __future__ import annotations

import pytest
import yaml

from course import seeds


def test_claims_load_and_ids_are_well_formed():
    claims = seeds.claims()
    assert len(claims) >= 40
    for claim_id in claims:
        assert seeds.CLAIM_ID.match(claim_id)
        assert claim_id.split(".")[0] in {"overview", "history", "constitution", "border", "corridor",
                                          "framework", "turkey", "aliyev"}


def test_claim_ids_in_the_file_are_unique():
    entries = yaml.safe_load((seeds.seeds_dir() / "claims.yaml").read_text(encoding="utf-8"))
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))


def test_a_duplicate_id_is_refused():
    entries = yaml.safe_load((seeds.seeds_dir() / "claims.yaml").read_text(encoding="utf-8"))
    with pytest.raises(seeds.SeedError, match=r"claim constitution.baku-demand, field 'id': duplicate"):
        seeds.parse_claims(entries + [dict(entries[[e["id"] for e in entries].index("constitution.baku-demand")])])


@pytest.mark.parametrize(("change", "message"), [
    ({"id": "Constitution Baku"}, r"field 'id': .* is not of the form"),
    ({"note": 11}, r"field 'note': 11 is not an endnote number"),
    ({"kind": "opinion"}, r"field 'kind'"),
    ({"claim": "Too short."}, r"field 'claim': expected a sentence"),
    ({"colour": "red"}, r"unknown field"),
])
def test_malformed_claims_name_the_field(change, message):
    entry = {"id": "border.sample", "section": "border", "note": None, "kind": "fact",
             "claim": "A sentence long enough to count as a claim."}
    entry.update(change)
    with pytest.raises(seeds.SeedError, match=message):
        seeds.parse_claims([entry])


def test_missing_field_is_named():
    with pytest.raises(seeds.SeedError, match=r"claim border.sample, field 'kind': missing"):
        seeds.parse_claims([{"id": "border.sample", "section": "border", "note": None, "claim": "x y z w v"}])


def test_corrections_from_facts_md_are_attached():
    assert "names no" in seeds.claim("border.article-1976").correction
    assert "COP29" in seeds.claim("aliyev.cop29").correction
    assert "Confirmed" in seeds.claim("constitution.yerevan-protests").correction  # issue 16, correction 13
    assert "National Council" in seeds.claim("constitution.preamble-chain").correction


def test_second_review_fixes_in_the_claims():
    claims = seeds.claims()
    # defect 1: the acceptance of the new balance comes BEFORE the September 2023 operation
    after = claims["history.bilateral-after-2023"].claim
    assert after.index("before") < after.index("came after") and "bilateral" in after
    # defect 20: an interview (note 9) and a judgement are not facts
    assert claims["turkey.july-2022-agreements"].kind != "fact"
    assert claims["history.talks-since-2020"].kind != "fact"
    # defect 12: the article says "notable", not "strong"
    assert "notable" in claims["border.village-progress"].claim
    # defect 4: note 7 speaks of Israel only; the Türkiye alliance is the author's own statement
    israel = claims["framework.israel-turkey"].claim
    assert "author's own" in israel and "Israel only" in israel


def test_cite_gives_id_and_note():
    assert seeds.cite("constitution.baku-demand") == "Niazi 2024 [constitution.baku-demand, note 1]"
    assert seeds.cite("overview.three-deadlocks") == "Niazi 2024 [overview.three-deadlocks]"
    with pytest.raises(KeyError, match="no claim"):
        seeds.cite("constitution.nothing")


def test_endnotes_table_has_the_ten_interviews():
    notes = seeds.endnotes()
    assert list(notes["note"]) == list(range(1, 11))
    # note 5 names a Baku think tank but no nationality: six were interviewed in Baku, five are
    # called Azerbaijani, four Armenian (issue 16, defect 13)
    assert notes["side"].value_counts().to_dict() == {"Azerbaijan": 5, "Armenia": 4, "not stated": 1}
    assert (notes["city"] == "Baku").sum() == 6
    assert notes.set_index("note").loc[5, "side"] == "not stated"
    assert set(notes["city"]) == {"Baku", "Yerevan"}
    assert (notes["month"] == "2024-06").all()
    cited_notes = {c.note for c in seeds.claims().values() if c.note}
    assert cited_notes == set(range(1, 11)), "every endnote is behind at least one claim"


def test_record_names_author_and_reprint():
    record = seeds.record()
    assert record["author"] == "Omer Niazi"
    assert str(record["reprint_date"]) == "2024-11-16"
