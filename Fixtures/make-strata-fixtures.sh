#!/bin/sh
# Writes the Strata fixtures in Fixtures/strata (see Fixtures/README.md) with the writers of
# the current tree. Run once, commit the output; rerun only when the format changes on
# purpose. Not run in CI: the writer is a test suite enabled by STRATA_WRITE_FIXTURES=1.
set -eu
cd "$(dirname "$0")/.."
rm -rf Fixtures/strata
STRATA_WRITE_FIXTURES=1 swift test --filter StrataFixtureWriter
ls -lR Fixtures/strata
