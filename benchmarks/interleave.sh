#!/usr/bin/env bash
# Runs the training-step benchmark (section 2) for delora4j and for PyTorch + PEFT in alternating order, round after
# round, then prints the table of medians. On a shared machine a slow minute then lands on both sides, not on one.
#
#   benchmarks/interleave.sh OUT_DIR [ROUNDS]      (after: mvn -B -ntp -DskipTests package)
#
# Environment: PYTHON (default .venv/bin/python, with src-test-fixtures/parity/requirements.txt), BATCHES (8,32),
# METHODS (lora,delora: the ones PEFT has), ITER (3 timed steps per configuration), START (1: the first round's number;
# odd rounds run ours first, even rounds PEFT first; files already in OUT_DIR from earlier rounds are included).
set -euo pipefail
out=${1:?usage: benchmarks/interleave.sh OUT_DIR [ROUNDS]}
rounds=${2:-2}
py=${PYTHON:-.venv/bin/python}
batches=${BATCHES:-8,32}
methods=${METHODS:-lora,delora}
iter=${ITER:-3}
cp='benchmarks/target/delora-benchmarks.jar:benchmarks/target/lib/*'
mkdir -p "$out"
ours() {
  java -cp "$cp" dev.delora.benchmarks.BenchmarkMain --sections train --batches "$batches" --methods "$methods" \
       --warmup 1 --train-iterations "$iter" --infer-iterations "$iter" --json "$out/ours-$1.json" > "$out/ours-$1.log" 2>&1
}
peft() {
  "$py" src-test-fixtures/parity/bench_peft.py --sections train --batches "$batches" --warmup 1 \
        --train-iterations "$iter" --infer-iterations "$iter" --out "$out/peft-$1.json" > "$out/peft-$1.log" 2>&1
}
start=${START:-1}
for r in $(seq "$start" $((start + rounds - 1))); do
  echo "round $r: $(date -u +%FT%TZ)" >&2
  if (( r % 2 )); then ours "$r"; peft "$r"; else peft "$r"; ours "$r"; fi
done
echo "done: $(date -u +%FT%TZ)" >&2
list() { ls "$out"/"$1"-*.json | paste -sd, -; }
java -cp "$cp" dev.delora.benchmarks.BenchmarkMain --batches "$batches" --methods "$methods" \
     --results "$(list ours)" --peft "$(list peft)"
