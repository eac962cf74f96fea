"""Write tests/malformed/expected_triage.json: Python's triage outcome for every corpus file.

The browser's validator is compared with it (parity); tests/test_triage_parity.py checks the
committed file is what this script writes. Run after changing the corpus or the rules:

    python tests/malformed/make_expected_triage.py
"""

from analysis.triage.parity import FIXTURE, fixture_text

if __name__ == "__main__":
    FIXTURE.write_text(fixture_text(), encoding="utf-8")
    print(f"wrote {FIXTURE}")
