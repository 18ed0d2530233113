# Shared by paper A's margin pipelines (fig3, fig4, fig5; source it after ../lib.sh): the
# training sizes of their Lipschitz-VAEs and Algorithm 2's settings, quick / FULL=1 / CHECK=1,
# each overridable from the environment (a caller may set STEP before sourcing: fig5 uses 0.25).
EPOCHS=${EPOCHS:-$(pick 1 50 1)}
# "to convergence" as the authors train (vae-train --convergence-tol, their fixed-σ configs' 1
# nat), with EPOCHS the most epochs: FULL=1 only (CONV_TOL= for a fixed EPOCHS there too)
CONV_TOL=${CONV_TOL-$(pick "" 1 "")}
TRAIN_LIMIT=${TRAIN_LIMIT:-$(pick 20000 all 2000)}
N=${N:-$(pick 10 25 2)}
SEARCH=${SEARCH:-$(pick bisect linear bisect)}
ATTACK_STEPS=${ATTACK_STEPS:-$(pick 20 50 3)}
RESTARTS=${RESTARTS:-$(pick 5 5 1)}
SAMPLES=${SAMPLES:-$(pick 40 40 8)}
START=${START:-10}; STEP=${STEP:-0.5}; R=${R:-8}
CONSTANTS=${CONSTANTS:-$(pick "5 7 10 12" "5 7 10 12" "5")}
