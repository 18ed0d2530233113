# Shared by paper D's pipelines (source it after ../lib.sh).

# train_d_vae MODEL JSON [vae-train options...]: paper D's conv VAE (Table 6, `--arch conv`) on
# binarised $DATA for $EPOCHS epochs, trained as paper D Appendix D trains it (Adam 5e-4, halved
# after 10 epochs without validation improvement, batch 128), unless trained alike (train_once)
train_d_vae() {
    local model=$1 json=$2; shift 2
    say "training the conv VAE ($EPOCHS epochs) unless trained alike"
    # shellcheck disable=SC2046
    train_once "$model" "$json" --data "$DATA" --arch conv --binarize dynamic --epochs "$EPOCHS" $(train_limit) \
        --lr 5e-4 --lr-schedule plateau --patience 10 --seed 0 "$@"
}

# prepare_d OUT: OUT/vae.safetensors (train_d_vae, its JSON line in OUT/train.json; MODEL_ARGS,
# e.g. "--beta 2" or "--objective tcvae --beta 2", adds vae-train options: paper D's β-models) and
# OUT/ref.npy ($N stratified binarised $DATA test references), with check_encoder on them
prepare_d() {
    local out=$1
    # shellcheck disable=SC2086
    train_d_vae "$out/vae.safetensors" "$out/train.json" ${MODEL_ARGS:-} || return 1
    "$BIN/vae-eval" export --input "$DATA:test@$N#bin" -o "$out/ref.npy" || return 1
    check_encoder "$out/vae.safetensors" "$out/ref.npy" "$DATA vae"
}

# hmc_eta DATA: the initial HMC step size η0 of the authors' runs (runs/*/attack_and_defend.sh
# in AKuzina/defend_vae_mcmc; paper D Table 8): 0.1 on MNIST, 0.05 on Fashion-MNIST and Colour MNIST
hmc_eta() { case "$1" in mnist) echo 0.1 ;; *) echo 0.05 ;; esac; }
# hmc_paper_steps DATA: the authors' HMC transitions T: 500 on MNIST, 1000 on the others
hmc_paper_steps() { case "$1" in mnist) echo 500 ;; *) echo 1000 ;; esac; }
