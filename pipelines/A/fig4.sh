#!/usr/bin/env bash
# Paper A Figure 4: certified r-robustness margins against empirical ones, for Lipschitz-VAEs
# with Lipschitz constants 5, 7, 10, 12 (all three networks), r = 8.
#   certified  vae-certify lipschitz: Lemma 1.1's per-input margin max(m1(x), m2(x)) and, for a
#              fixed encoder σ, Theorem 2's global margin (equal to it then); with the constants
#              vae-certify measures from the weights (the sigmoids' ¼ included) and, as the
#              authors' code computes it, with the claimed constants a = b = c = M (--assume-config)
#   empirical  vae-certify margin: Algorithm 2's estimate by maximum-damage attacks (from above)
# Every empirical margin must lie above its certified one (y ≥ x in the figure).
#
#   pipelines/A/fig4.sh OUTDIR          (make -C pipelines/A fig4 writes results/A/fig4/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   DATASETS     "mnist fashion-mnist" / "mnist fashion-mnist" / fashion-mnist   (one Lemma 1.1 panel each)
#   EPOCHS       1 / 50 / 1           (paper: Adam 1e-4 "to convergence", |Δ train loss| ≤ 1 nat)
#   CONV_TOL     "" / 1 / ""          vae-train --convergence-tol: FULL trains to convergence, at most EPOCHS
#   TRAIN_LIMIT  20000 / all / 2000   training images
#   N            10 / 25 / 2          test images (stratified over the classes)
#   SEARCH       bisect / linear / bisect     (Algorithm 2 walks the grid: linear)
#   ATTACK_STEPS 20 / 50 / 3   RESTARTS 5 / 5 / 1   SAMPLES 40 / 40 / 8   START 10  STEP 0.5
#   CONSTANTS    "5 7 10 12" (CHECK: "5")   R 8
#   SIGMA        the encoder σ of the Lemma 1.1 panels (left, centre): clipped (default) learns σ(x)
#                (sigmoid head) clipped to ‖σ(x)‖₂ ≤ (R_CLIP/M)/√8 − 1e-4 (refused if not positive; vae-train
#                --sigma-max-norm), as the authors' Lemma 1.1 models (R_CLIP 5, their
#                desired_radius); learned: the same without the clip; or a fixed σ per latent
#                dimension (e.g. 0.0316228, ‖σ‖₂ = 0.1), for which Lemma 1.1 equals Theorem 2
#   SIGMA_NORMS  "0.06 0.1 0.13 0.19 0.25" / "0.06 0.13 0.19 0.25" / "0.1"   the Theorem 2 panel (right):
#                MNIST (CHECK: Fashion-MNIST), fixed ‖σ‖₂ (σ = ‖σ‖₂/√10 per dimension; one more model
#                per constant and norm): the paper's four, and at the quick size also 0.1, the
#                norm of fig5's and grids' models (which reuse these); a model that fig3.sh (run
#                first by the Makefile) trained the same way is copied from beside OUTDIR
# Writes OUTDIR/fig4.tsv (one line per model and image), fig4-summary.tsv (one per model),
# fig4.png, the tools' JSON lines (*.jsonl) and the models.
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATASETS=${DATASETS:-$(pick "mnist fashion-mnist" "mnist fashion-mnist" "$(check_data mnist)")}
. "$(dirname "$0")/sizes.sh"
SIGMA=${SIGMA:-clipped}; R_CLIP=${R_CLIP:-5}
SIGMA_NORMS=${SIGMA_NORMS-$(pick "0.06 0.1 0.13 0.19 0.25" "0.06 0.13 0.19 0.25" 0.1)}
mkdir -p "$OUT"
start=$(date +%s)

. "$(dirname "$0")/models.sh"
# the --sigma-max-norm of a clipped model with decoder constant M (the authors' Clip layer)
clip_norm() { python3 -c "import math, sys; print('%.7g' % max(float(sys.argv[1]) / float(sys.argv[2]) / math.sqrt(8) - 1e-4, 0))" "$R_CLIP" "$1"; }
# train (unless already there), certify and attack one model: NAME DATA SIGMA(value|learned|clipped) M
# PANEL (lemma: a Lemma 1.1 panel, one per dataset; theorem2: the fixed-norm panel)
run_model() {
    local name=$1 data=$2 sigma=$3 m=$4 panel=$5 model="$OUT/$1.safetensors" clip=()
    case $sigma in
        learned|clipped)
            if [ "$sigma" = clipped ]; then
                clip=(--sigma-max-norm "$(clip_norm "$m")")
                [ "${clip[1]}" != 0 ] || { say "SIGMA=clipped: (R_CLIP/M)/√8 − 1e-4 is not positive for R_CLIP $R_CLIP, M $m"; exit 1; }
            fi
            say "training $name (M = $m, $sigma σ${clip:+ with ‖σ‖₂ ≤ ${clip[1]}}, $EPOCHS epoch(s))…"
            train_once "$model" "$OUT/$name-train.jsonl" --data "$data" --arch mlp --lipschitz "$m" --likelihood cbernoulli \
                --lr 1e-4 --epochs "$EPOCHS" $(convergence) $(limits) --seed 0 "${clip[@]}" ;;
        # a fixed σ: Figure 3's model of the same name (fig3.sh beside OUTDIR) when it was
        # trained the same way
        *) DATA=$data SIGMA=$sigma train_model "$model" "$m" 1e-4 "$(dirname "$OUT")/fig3/$1.safetensors" ;;
    esac
    local input="$data:test@$N"
    "$BIN/vae-certify" lipschitz --model "$model" --r "$R" --input "$input" > "$OUT/$name-lemma.jsonl"
    "$BIN/vae-certify" lipschitz --model "$model" --r "$R" --input "$input" --assume-config > "$OUT/$name-lemma-paper.jsonl"
    if [ "$sigma" != learned ] && [ "$sigma" != clipped ]; then
        "$BIN/vae-certify" lipschitz --model "$model" --r "$R" > "$OUT/$name-theorem2.jsonl"
        "$BIN/vae-certify" lipschitz --model "$model" --r "$R" --assume-config > "$OUT/$name-theorem2-paper.jsonl"
    else
        : > "$OUT/$name-theorem2.jsonl"; : > "$OUT/$name-theorem2-paper.jsonl"
    fi
    say "empirical margins of $name ($N images, $SEARCH search, $RESTARTS restarts × $ATTACK_STEPS steps)…"
    "$BIN/vae-certify" margin --model "$model" --input "$input" --r "$R" --start "$START" --step "$STEP" \
        --restarts "$RESTARTS" --samples "$SAMPLES" --attack-steps "$ATTACK_STEPS" --search "$SEARCH" --seed 0 \
        > "$OUT/$name-margin.jsonl"
    echo "$name $data $sigma $m $panel" >> "$OUT/models.txt"
}

: > "$OUT/models.txt"
for d in $DATASETS; do
    suffix=""; case $SIGMA in learned) suffix=-learned ;; clipped) suffix=-clip ;; esac
    for m in $CONSTANTS; do run_model "$d-lip$m$suffix" "$d" "$SIGMA" "$m" lemma; done
done
MNIST=$(check_data mnist)
for s in $SIGMA_NORMS; do
    sig=$(python3 -c "import math, sys; print('%.7g' % (float(sys.argv[1]) / math.sqrt(10)))" "$s")
    for m in $CONSTANTS; do run_model "$MNIST-lip$m-sn$s" "$MNIST" "$sig" "$m" theorem2; done
done

# one line per model and image, and one per model
python3 - "$OUT" <<'PY'
import json, math, os, statistics, sys
out = sys.argv[1]
def lines(p):
    return [json.loads(l) for l in open(p) if l.strip()]
rows, summ = [], []
for spec in open(os.path.join(out, "models.txt")):
    name, data, sigma, m, panel = spec.split()
    lem = lines(os.path.join(out, name + "-lemma.jsonl"))
    lemp = lines(os.path.join(out, name + "-lemma-paper.jsonl"))
    mar = lines(os.path.join(out, name + "-margin.jsonl"))
    th = lines(os.path.join(out, name + "-theorem2.jsonl"))
    thp = lines(os.path.join(out, name + "-theorem2-paper.jsonl"))
    per = {r["index"]: r for r in lem if "index" in r}
    perp = {r["index"]: r for r in lemp if "index" in r}
    emp = {r["index"]: r for r in mar if "index" in r}
    t2 = th[0]["margin"] if th else float("nan")
    t2p = thp[0]["margin"] if thp else float("nan")
    consts = [r for r in lem if "a" in r][0]
    tr = [json.loads(l) for l in open(os.path.join(out, name + "-train.jsonl"))] if os.path.exists(os.path.join(out, name + "-train.jsonl")) else []
    elbo = tr[-1]["test_elbo"] if tr else float("nan")
    gaps = []
    for i in sorted(emp):
        c, cp, e = per[i]["margin"], perp[i]["margin"], emp[i]["margin"]
        gaps.append(e - c)
        rows.append((data, m, sigma, per[i]["sigma_norm"], i, c, cp, t2, e, emp[i]["attacks"], panel))
    ok = sum(g >= 0 for g in gaps)
    summ.append((name, data, m, sigma, "%.4g" % statistics.mean(r["sigma_norm"] for r in per.values()),
                 "%.4g" % consts["a"], "%.4g" % consts["b"], "%.4g" % consts["c"], "%.1f" % elbo,
                 "%.4f" % t2, "%.4f" % t2p,
                 "%.4f" % statistics.mean(r["margin"] for r in per.values()),
                 "%.4f" % statistics.mean(r["margin"] for r in perp.values()),
                 "%.3f" % statistics.mean(r["margin"] for r in emp.values()),
                 "%.3f" % (statistics.stdev(r["margin"] for r in emp.values()) if len(emp) > 1 else float("nan")),
                 "%d/%d" % (ok, len(gaps))))
with open(os.path.join(out, "fig4.tsv"), "w") as f:
    f.write("dataset\tM\tsigma\tsigma_norm\tindex\tlemma11\tlemma11_paper_constants\ttheorem2\tempirical\tattacks\tpanel\n")
    for r in rows:
        f.write("\t".join(str(x) if not isinstance(x, float) else "%.6g" % x for x in r) + "\n")
with open(os.path.join(out, "fig4-summary.tsv"), "w") as f:
    f.write("model\tdataset\tM\tsigma\tsigma_norm\ta\tb\tc\ttest_elbo\ttheorem2\ttheorem2_paper_constants\tlemma11_mean\tlemma11_paper_mean\tempirical_mean\tempirical_sd\tempirical>=certified\n")
    for r in summ: f.write("\t".join(r) + "\n")
PY

if need_gnuplot; then
    P="$OUT/plot"; mkdir -p "$P"
    # one data file per panel and constant: certified (measured), certified (paper's constants), empirical
    panels=""; for d in $DATASETS; do panels="$panels $d:$SIGMA"; done
    [ -n "$SIGMA_NORMS" ] && panels="$panels sweep"
    np=$(echo $panels | wc -w)
    {
        w=$((560 * np)); [ "$w" -ge 760 ] || w=760
        echo "set terminal pngcairo size $w,540 font ',11'"
        echo "set output '$OUT/fig4.png'"
        echo "set multiplot layout 1,$np title 'Paper A Figure 4: empirical (Algorithm 2) vs certified r-robustness margins, r = $R'"
        # a log x axis over the positive certified margins (0: nothing certified, not drawn)
        xr=$(awk -F'\t' 'NR>1 {for (k = 6; k <= 8; k++) if ($k ~ /^[0-9.eE+-]+$/ && $k > 0 && (lo == "" || $k < lo)) lo = $k; if ($9 > hi) hi = $9}
                          END {if (lo == "") lo = 0.001; if (hi < lo * 4) hi = lo * 4; printf "[%g:%g]", lo / 2, hi * 1.5}' "$OUT/fig4.tsv")
        echo "set logscale x; set xrange $xr; set format x '10^{%L}'; set xlabel 'certified margin (log scale; 0 not drawn)'; set ylabel 'estimated margin R^{r}(x) (Algorithm 2)'"
        echo "set key top left box opaque samplen 1 spacing 1.1 font ',10'; set grid; set yrange [0:*]"
        styles="NaN with points pt 7 ps 1.3 lc rgb 'black' title 'filled: constants measured from the weights', NaN with points pt 6 ps 1.3 lc rgb 'black' title 'open: a = b = c = M (the paper’s arithmetic)',"
        for p in $panels; do
            if [ "$p" = sweep ]; then
                awk -F'\t' -v d="$MNIST" 'NR>1 && $1==d && $11=="theorem2" {print $2, $8, $9, $3}' "$OUT/fig4.tsv" > "$P/sweep.dat"
                echo "set title 'Theorem 2 (global), $MNIST, fixed ‖σ‖_2 = ${SIGMA_NORMS// /, }'"
                cmd="plot"
                i=1; for m in $CONSTANTS; do
                    cmd="$cmd '$P/sweep.dat' using (\$1==$m ? \$2 : NaN):3 with points pt 7 ps 1.2 lc $i title 'M = $m',"
                    i=$((i + 1)); done
                echo "$cmd x with lines lc rgb 'black' lw 1.5 title 'y = x'"
                continue
            fi
            d=${p%%:*}; s=${p#*:}
            if [ "$s" = learned ]; then stitle="learned σ(x)"
            elif [ "$s" = clipped ]; then stitle="learned σ(x), ‖σ(x)‖_2 ≤ ($R_CLIP/M)/√8"; else stitle="fixed ‖σ‖_2 = $(python3 -c "import math; print('%.2g' % ($s * math.sqrt(10)))")"; fi
            echo "set title 'Lemma 1.1 (per input), $d, $stitle'"
            cmd="plot $styles"
            i=1; for m in $CONSTANTS; do
                awk -F'\t' -v d="$d" -v m="$m" 'NR>1 && $1==d && $2==m && $11=="lemma" {print $6, $7, $9}' "$OUT/fig4.tsv" > "$P/$d-$m.dat"
                cmd="$cmd '$P/$d-$m.dat' using 1:3 with points pt 7 ps 1.3 lc $i title 'M = $m',"
                cmd="$cmd '$P/$d-$m.dat' using 2:3 with points pt 6 ps 1.3 lc $i notitle,"
                i=$((i + 1)); done
            echo "$cmd x with lines lc rgb 'black' lw 1.5 title 'y = x'"
        done
        echo "unset multiplot"
    } > "$P/fig4.gp"
    gnuplot "$P/fig4.gp"
    say "wrote $OUT/fig4.png"
fi
column -t -s $'\t' "$OUT/fig4-summary.tsv"
say "$(( $(date +%s) - start )) s"
