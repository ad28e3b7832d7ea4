#!/usr/bin/env bash
# Seeds each fuzz target's corpus with the shared sample documents (../shared/data), then runs
# every target for a while (release build with debug assertions): `fuzz/seed.sh [SECONDS_PER_TARGET]`
# (default 60). Needs nightly and
# cargo-fuzz (`cargo install cargo-fuzz`). Corpora and artefacts stay out of git.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../../shared/data"
seconds="${1:-60}"
seed() { # target, then find(1) arguments
  local target="$1"; shift
  mkdir -p "$here/corpus/$target"
  find "$data" -type f "$@" | while read -r f; do
    case "$f" in
      *.gz) gzip -dc "$f" > "$here/corpus/$target/$(basename "${f%.gz}")" ;;
      *) cp "$f" "$here/corpus/$target/" ;;
    esac
  done
}
seed epcis_json -path '*epcis*' \( -name '*.json' -o -name '*.jsonld' \)
seed epcis_xml -path '*epcis*' -name '*.xml'
seed ubl -path '*ubl*' \( -name '*.xml' -o -name '*.xml.gz' \) -not -path '*/cii/*'
seed cii \( -name '*.cii.xml' -o -name '*.cii.xml.gz' -o -path '*cen-en16931/cii/*' \)
seed facturx \( -name '*.pdf' -o -name '*.pdf.gz' \)
seed x12 -path '*x12/x12*' -name '*.edi'
seed edifact -path '*edifact*' \( -name '*.edi' -o -name '*.EDI' -o -name '*.txt' -o -name '*.TXT' \)
seed poslog -path '*poslog*' -name '*.xml'
mkdir -p "$here/corpus/detect_and_parse"
for d in "$here"/corpus/*/; do cp -n "$d"* "$here/corpus/detect_and_parse/" 2>/dev/null || true; done
cd "$here"
for target in epcis_json epcis_xml ubl cii facturx x12 edifact poslog detect_and_parse; do
  echo "== $target ($seconds s)"
  cargo +nightly fuzz run -O "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=1048576
done
