#!/usr/bin/env bash
# Paper A Figure 2: the relative tightness of Theorem 1's two bounds, 1 − p1 (Markov's
# inequality) and 1 − p2 (the χ² tail bound), against the perturbation norm ‖δ‖₂, for
# a = b = c = 5, d_z = 5 and ‖σ(x)‖₂ = 0.1 (the figure's setting; its r is not stated, so several
# are drawn). Pure arithmetic: `vae-certify theorem1`, no model.
#
#   pipelines/A/fig2.sh OUTDIR          (make -C pipelines/A fig2 writes results/A/fig2/)
#
# Settings (the same at every size; each can be overridden by its variable):
#   A=5 B=5 C=5 LATENT=5 SIGMA_NORM=0.1   RADII="3 5 8"   DELTAS 0:0.2:0.002 (CHECK: 0:0.2:0.05)
# Writes OUTDIR/fig2.tsv (r, ‖δ‖₂, 1 − p1, 1 − p2, the bound 1 − min(p1, p2)), fig2-margins.tsv
# (Lemma 1.1's m1, m2 per r: where each curve crosses the threshold 1/2), fig2.png and the tool's
# JSON lines (theorem1-R.jsonl).
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
A=${A:-5}; B=${B:-5}; C=${C:-5}; LATENT=${LATENT:-5}; SIGMA_NORM=${SIGMA_NORM:-0.1}
RADII=${RADII:-"3 5 8"}; DELTAS=${DELTAS:-$(pick 0:0.2:0.002 0:0.2:0.002 0:0.2:0.05)}
mkdir -p "$OUT"
start=$(date +%s)
printf 'r\tdelta\tone_minus_p1\tone_minus_p2\tbound\n' > "$OUT/fig2.tsv"
printf 'r\tm1\tm2\tmargin\n' > "$OUT/fig2-margins.tsv"
for r in $RADII; do
    "$BIN/vae-certify" theorem1 --a "$A" --b "$B" --c "$C" --latent "$LATENT" --sigma-norm "$SIGMA_NORM" --r "$r" \
        --deltas "$DELTAS" > "$OUT/theorem1-$r.jsonl"
    python3 - "$r" "$OUT/theorem1-$r.jsonl" >> "$OUT/fig2.tsv" <<'PY'
import json, sys
for l in open(sys.argv[2]):
    d = json.loads(l)
    if "delta" in d:
        print("%s\t%g\t%.6f\t%.6f\t%.6f" % (sys.argv[1], d["delta"], d["one_minus_p1"], d["one_minus_p2"], d["bound"]))
PY
    tail -n 1 "$OUT/theorem1-$r.jsonl" | python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); print("%s\t%.6g\t%.6g\t%.6g" % (sys.argv[1], d["m1"], d["m2"], d["margin"]))' "$r" \
        >> "$OUT/fig2-margins.tsv"
done
if need_gnuplot; then
    plots=() i=1
    for r in $RADII; do
        # the rows of this r (others are 1/0, which gnuplot skips)
        plots+=("\"$OUT/fig2.tsv\" using 2:(\$1 == $r ? \$3 : 1/0) with lines lw 2 dt 1 lc $i title \"1 − p1, r = $r\"")
        plots+=("\"$OUT/fig2.tsv\" using 2:(\$1 == $r ? \$4 : 1/0) with lines lw 2 dt 2 lc $i title \"1 − p2, r = $r\"")
        i=$((i + 1))
    done
    gnuplot <<GP
set terminal pngcairo size 800,520
set output "$OUT/fig2.png"
set title "Paper A Figure 2: Theorem 1's two bounds (a = b = c = $A, d_z = $LATENT, ||σ||_2 = $SIGMA_NORM)"
set xlabel "||δ||_2"
set ylabel "lower bound on P[ ||g(z_δ) − g(z)||_2 ≤ r ]"
set yrange [0:1.02]
set key outside right
set datafile separator "\t"
plot $(IFS=,; echo "${plots[*]}")
GP
    say "wrote $OUT/fig2.png"
fi
column -t -s $'\t' "$OUT/fig2-margins.tsv"
say "$(( $(date +%s) - start )) s"
