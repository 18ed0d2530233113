import ArgumentParser
import CLI
import Foundation
import Shared

@main
struct VAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-train",
        abstract: "Train a VAE (standard, β, β-TC, Lipschitz, proVAE) and write one .safetensors file.",
        subcommands: [Train.self, Classifier.self],
        defaultSubcommand: Train.self)

    static func main() { ToolMain.run(VAETrain.self) }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VAE (the default subcommand: vae-train OPTIONS is vae-train train OPTIONS).",
        discussion: """
        Trains on NAME:train (holding out --val-fraction for validation) and reports on NAME:test. Progress goes to stderr; a final JSON line (train, validation and test ELBO, test MSE, epochs, seconds) to stdout. A checkpoint OUTPUT.ckpt is written after every epoch and removed after a successful run (--keep-checkpoint keeps it); --resume continues from it, and Ctrl-C saves it before exiting with status 130. The model's metadata records how it was trained (epochs, batch, learning rate and schedule, training images, validation share, tool version).

        Examples:
          vae-train --data fashion-mnist --arch mlp --latent 10 --epochs 10 -o \\
            vae.safetensors
          vae-train --data fashion-mnist --arch mlp --lipschitz 5 --fixed-sigma 0.1 \\
            --likelihood cbernoulli -o lip5.safetensors
          vae-train --data mnist --arch conv-small --likelihood gaussian --sigma0 \\
            0.70710678 --batch 32 --epochs 3 -o vae0.safetensors
          vae-train --data mnist --arch conv-small --likelihood gaussian --sigma0 \\
            0.70710678 --batch 32 --epochs 6 --objective provae --eps-train 0.05 \\
            --eps-ramp 6 --init vae0.safetensors -o provae.safetensors
          (a proVAE from a random start, or with too little data, can collapse to an
          encoder that ignores its input: check it with vae-eval encoder-stats)
          vae-train classifier --model vae.safetensors --data fashion-mnist -o \\
            clf.safetensors
        """)

    @OptionGroup var data: TrainingDataOptions
    @Option(help: "Architecture: mlp (paper A), conv (paper D Table 6), conv-small (paper C), hvae (a hierarchical VAE of the NVAE family, paper D section 4.3; see --groups).")
    var arch: ArchitectureChoice = .mlp
    @Option(parsing: .unconditional, help: "Latent size (default: 10 for mlp, 64 for conv, 50 for conv-small, 16 per group for hvae, or for its top group alone with --latent-map).")
    var latent: Int?
    @Option(help: ArgumentHelp("Hidden widths, comma-separated (default: mlp 512,512; conv 32,64,96,128; conv-small 32,64; hvae 16,32,256: two channel counts and the top-down width).", valueName: "w1,w2,..."))
    var hidden: Widths?
    @Option(parsing: .unconditional, help: "Latent groups K of --arch hvae, 1 to 8 (default 2; K = 1 has a plain VAE's ELBO, and the tools still read it as an hvae).")
    var groups: Int?
    @Option(name: .customLong("latent-map"), parsing: .unconditional, help: "With --arch hvae: make each group below the top one a C×7×7 latent map read and written by 3×3 convolutions on a top-down feature map (NVAE's way), with C channels (C·49 codes per group); the top group stays a vector of --latent. Off by default: every group a vector of --latent.")
    var latentMap: Int?
    @Option(name: .customLong("kl-warmup"), parsing: .unconditional, help: "Epochs over which the KL weight rises linearly from 0 to --beta, batch by batch (NVAE's warm-up; --objective elbo; 0: none).")
    var klWarmup: Double = 0
    @Option(help: "Objective: elbo (with --beta, a β-VAE), tcvae (β-TCVAE), provae (paper C's certified bound).")
    var objective: ObjectiveChoice = .elbo
    @Option(parsing: .unconditional, help: "Weight of the KL term (elbo, provae) or of the total correlation (tcvae).")
    var beta: Float = 1
    @Option(name: .customLong("eps-train"), parsing: .unconditional, help: "proVAE: the L∞ radius the ELBO bound is trained for.")
    var epsTrain: Float = 0
    @Option(name: .customLong("eps-ramp"), parsing: .unconditional, help: "proVAE: epochs over which the radius ramps up linearly from 0 (default: half the epochs, rounded down, at least 1; on --resume, the checkpoint's).")
    var epsRamp: Int?
    @Flag(name: .customLong("no-pixel-box"), help: "proVAE with a positive --eps-train and --likelihood gaussian: train on the bound over the whole L∞ ball, x ± ε, as paper C section 3.2 states it. By default the ball is clipped to the pixel range [0, 1], which covers only the inputs of the ball that are images (the default of vae-attack and vae-certify too).")
    var noPixelBox = false
    @Option(parsing: .unconditional, help: "Lipschitz constant of all three networks (paper A; mlp only). Off by default.")
    var lipschitz: Float?
    @Option(name: .customLong("lipschitz-decoder"), parsing: .unconditional, help: "Lipschitz constant a of the decoder (overrides --lipschitz). Off by default.")
    var lipschitzDecoder: Float?
    @Option(name: .customLong("lipschitz-mean"), parsing: .unconditional, help: "Lipschitz constant b of the encoder mean. Off by default.")
    var lipschitzMean: Float?
    @Option(name: .customLong("lipschitz-std"), parsing: .unconditional, help: "Lipschitz constant c of the encoder standard deviation. Off by default.")
    var lipschitzStd: Float?
    @Option(name: .customLong("bjorck-iterations"), parsing: .unconditional, help: "Björck iterations per forward pass of a Lipschitz layer, at most (default 20; Lipschitz models only).")
    var bjorckIterations: Int?
    @Option(name: .customLong("bjorck-gradient"), help: "The gradient of a Björck weight that is already orthonormal: tangent (what the gradient through the iterations is there, paper A) or identity (faster to state, includes the normal component). Default tangent; Lipschitz models only.")
    var bjorckGradient: BjorckGradient?
    @Option(name: .customLong("group-size"), parsing: .unconditional, help: "GroupSort group size in Lipschitz networks (default 2 = MaxMin; Lipschitz models only).")
    var groupSize: Int?
    @Option(name: .customLong("fixed-sigma"), parsing: .unconditional, help: "A constant encoder standard deviation (paper A Theorem 2). Off by default: σ(x) is learnt.")
    var fixedSigma: Float?
    @Option(name: .customLong("sigma-offset"), parsing: .unconditional, help: "Add τ to the encoder standard deviation (paper B section 4.2).")
    var sigmaOffset: Float = 0
    @Option(name: .customLong("sigma-head"), help: "The mlp encoder's σ head: sigmoid (paper A; σ < 1, and it can saturate at 1 on grey data), log-variance (σ = exp(h/2), as paper D's conv head) or log-sigma (σ = exp(h), as paper C's). Default sigmoid; mlp only, and sigmoid only for a Lipschitz σ network (exp has no global Lipschitz constant).")
    var sigmaHead: ScaleParameterization?
    @Option(name: .customLong("sigma-max-norm"), parsing: .unconditional, help: "Clip the learned encoder σ(x) to this ℓ2 norm: a row with a larger norm is scaled onto it (paper A's authors train their Lemma 1.1 models with (5/M)/√8 − 1e-4, M the mean network's Lipschitz constant and 5 the radius their Figure 4 certifies (R_CLIP in pipelines/A/fig4.sh), so that every input gets a positive certificate). Off by default; not with --fixed-sigma, --sigma-offset or --arch hvae.")
    var sigmaMaxNorm: Float?
    @Option(help: "Likelihood: bernoulli, cbernoulli (continuous Bernoulli), gaussian.")
    var likelihood: LikelihoodChoice = .bernoulli
    @Option(parsing: .unconditional, help: "Standard deviation of the Gaussian likelihood (--likelihood gaussian only).")
    var sigma0: Float = 1
    @Option(parsing: .unconditional, help: "Training epochs (with --convergence-tol, the most it trains).")
    var epochs = 10
    @Option(name: .customLong("convergence-tol"), parsing: .unconditional, help: ArgumentHelp("Train \"to convergence\" as paper A's authors do: stop after the first epoch whose mean training loss is within this many nats of the previous epoch's (their fixed-σ configs use 1), at most --epochs epochs; with --kl-warmup, only epochs after the warm-up count. Off by default; not with --objective provae (its radius ramp needs a known length).", valueName: "nats"))
    var convergenceTol: Double?
    @Option(parsing: .unconditional, help: "Minibatch size.")
    var batch = 128
    @Option(parsing: .unconditional, help: "Adam learning rate.")
    var lr: Float = 1e-3
    @Option(name: .customLong("lr-schedule"), help: "none, plateau (×gamma after --patience epochs without validation improvement), step (×gamma every --step-size epochs).")
    var lrSchedule: ScheduleChoice = .none
    @Option(parsing: .unconditional, help: "Plateau schedule patience in epochs (default 10; --lr-schedule plateau only).")
    var patience: Int?
    @Option(name: .customLong("step-size"), parsing: .unconditional, help: "Step schedule period in epochs (default 10; --lr-schedule step only).")
    var stepSize: Int?
    @Option(parsing: .unconditional, help: "Learning-rate factor of the schedules (default 0.5; with --lr-schedule only).")
    var gamma: Float?
    @Option(help: "Binarisation (paper D): none, or dynamic (each training batch drawn afresh from Bernoulli(pixel intensity), from the seed, epoch and batch; validation and test images binarised once).")
    var binarize: BinarizeChoice = .none
    @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Share of the training split held out for validation, in [0, 1).")
    var valFraction: Float = 0.1
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Continue from OUTPUT.ckpt (off by default). The run's options must match the checkpoint's; --epochs may grow.")
    var resume = false
    @Option(name: .customLong("init"), help: ArgumentHelp("Start from the weights of this model file (the same network: architecture, sizes, groups, input shape, Lipschitz layout, fixed sigma), with a fresh optimizer, instead of a new initialisation from the seed; the objective, beta, likelihood and data may differ. For proVAE, train a plain VAE first and fine-tune it (interval-bound training collapses from a random start). Recorded in the model's metadata.", valueName: "model"))
    var initFrom: String?
    @Flag(name: .customLong("keep-checkpoint"), help: "Keep OUTPUT.ckpt after a successful run (off by default: it is removed).")
    var keepCheckpoint = false
    @OptionGroup var out: FileOutputOptions

    var lipschitzConstants: [Float?] { [lipschitzDecoder ?? lipschitz, lipschitzMean ?? lipschitz, fixedSigma == nil ? (lipschitzStd ?? lipschitz) : nil] }

    func validate() throws {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws { if !ok { throw ValidationError(message()) } }
        try check(epochs >= 1, "--epochs must be at least 1, got \(epochs)")
        try check(convergenceTol.map { $0 >= 0 && $0.isFinite } ?? true, "--convergence-tol must be a finite, non-negative number of nats, got \(convergenceTol ?? 0)")
        try check(convergenceTol == nil || objective != .provae, "--convergence-tol does not combine with --objective provae: its radius ramp (--eps-ramp) needs a known number of epochs")
        try check(batch >= 1, "--batch must be at least 1, got \(batch)")
        try check(lr > 0 && lr.isFinite, "--lr must be positive, got \(lr)")
        try check(latent.map { $0 >= 1 } ?? true, "--latent must be at least 1")
        try check(beta >= 0 && beta.isFinite, "--beta must be non-negative and finite, got \(beta)")
        try check(klWarmup >= 0 && klWarmup.isFinite, "--kl-warmup must be non-negative, got \(klWarmup)")
        try check(klWarmup == 0 || objective == .elbo, "--kl-warmup applies to --objective elbo only")
        try check(groups == nil || arch == .hvae, "--groups applies to --arch hvae only")
        try check(groups.map { (1...8).contains($0) } ?? true, "--groups must be between 1 and 8")
        try check(latentMap == nil || arch == .hvae, "--latent-map applies to --arch hvae only")
        try check(latentMap.map { (1...64).contains($0) } ?? true, "--latent-map must be between 1 and 64 channels")
        try check(latentMap == nil || (groups ?? 2) >= 2, "--latent-map shapes the groups below the top one: it needs --groups 2 or more")
        if arch == .hvae {
            try check(objective == .elbo, "--arch hvae trains on --objective elbo (with --beta) only")
            try check(lipschitz == nil && lipschitzDecoder == nil && lipschitzMean == nil && lipschitzStd == nil && fixedSigma == nil && sigmaOffset == 0,
                      "--arch hvae takes no Lipschitz constants, --fixed-sigma or --sigma-offset")
        }
        try check(bjorckIterations.map { $0 >= 1 } ?? true, "--bjorck-iterations must be at least 1")
        try check(groupSize.map { $0 >= 1 } ?? true, "--group-size must be at least 1")
        try check(stepSize.map { $0 >= 1 } ?? true, "--step-size must be at least 1")
        try check(patience.map { $0 >= 0 } ?? true, "--patience must be at least 0")
        try check(gamma.map { $0 > 0 && $0.isFinite } ?? true, "--gamma must be positive")
        let lipschitzModel = lipschitzConstants.contains { $0 != nil }
        try check(lipschitzModel || (bjorckIterations == nil && groupSize == nil && bjorckGradient == nil),
                  "--bjorck-iterations, --bjorck-gradient and --group-size apply to Lipschitz models (--lipschitz) only")
        try check(lrSchedule == .plateau || patience == nil, "--patience applies to --lr-schedule plateau only")
        try check(lrSchedule == .step || stepSize == nil, "--step-size applies to --lr-schedule step only")
        try check(lrSchedule != .none || gamma == nil, "--gamma applies with --lr-schedule plateau or step only")
        try check((0..<1).contains(valFraction), "--val-fraction must be in [0, 1), got \(valFraction)")
        try check(sigma0 > 0 && sigma0.isFinite, "--sigma0 must be positive, got \(sigma0)")
        try check(sigmaOffset >= 0 && sigmaOffset.isFinite, "--sigma-offset must be non-negative, got \(sigmaOffset)")
        if let head = sigmaHead {
            try check(arch == .mlp, "--sigma-head applies to --arch mlp only (conv has paper D's log-variance head, conv-small paper C's log-sigma head)")
            try check(fixedSigma == nil, "--sigma-head and --fixed-sigma exclude each other (a fixed σ has no head)")
            try check(head == .sigmoid || (lipschitzStd ?? lipschitz) == nil,
                      "--sigma-head \(head.optionName) cannot be Lipschitz-constrained: exp has no global Lipschitz constant (use sigmoid, or no Lipschitz constant for σ)")
        }
        try check(fixedSigma.map { $0 > 0 && $0.isFinite } ?? true, "--fixed-sigma must be positive")
        if let c = sigmaMaxNorm {
            try check(c > 0 && c.isNormal, "--sigma-max-norm must be positive and a normal 32-bit float (1.2e-38 to 3.4e38), got \(c) as a 32-bit float")
            try check(arch != .hvae, "--sigma-max-norm applies to one-level models (mlp, conv, conv-small), not --arch hvae")
            try check(fixedSigma == nil, "--sigma-max-norm clips a learned σ: it excludes --fixed-sigma")
            try check(sigmaOffset == 0, "--sigma-max-norm and --sigma-offset exclude each other (the offset would push σ past the clip)")
        }
        try check(lipschitzConstants.allSatisfy { $0.map { $0 > 0 && $0.isFinite } ?? true }, "Lipschitz constants must be positive")
        try check(epsTrain >= 0 && epsTrain.isFinite, "--eps-train must be non-negative, got \(epsTrain)")
        try check(epsRamp.map { $0 >= 0 } ?? true, "--eps-ramp must be non-negative")
        try check(objective == .provae || (epsTrain == 0 && epsRamp == nil), "--eps-train and --eps-ramp apply to --objective provae only")
        try check(objective == .provae || !noPixelBox, "--no-pixel-box applies to --objective provae only")
        // outside [0, 1] only the Gaussian is a density (paper C's likelihood); both needs in one message
        let boxNeeds = (epsTrain > 0 ? [] : ["a positive --eps-train (at radius 0 the bound is the ELBO, so it would change nothing)"])
            + (likelihood == .gaussian ? [] : ["--likelihood gaussian (the Bernoulli likelihoods are not densities outside [0, 1])"])
        try check(!noPixelBox || boxNeeds.isEmpty, "--no-pixel-box needs \(boxNeeds.joined(separator: " and "))")
        try check(likelihood == .gaussian || sigma0 == 1, "--sigma0 applies to --likelihood gaussian only")
        try out.check(also: [out.output + ".ckpt"], inputs: initFrom.map { [$0] } ?? [])
    }

    func run() throws {
        threads.apply()
        let (trainSet, testSet) = try data.load(limitTraining: false)  // the Trainer applies --train-limit
        var config = ModelConfig(architecture: arch.rawValue, latent: latent ?? Architectures.defaultLatent(arch.rawValue),
                                 inputShape: trainSet.imageShape, data: data.data, seed: seed.seed)
        config.hidden = hidden?.values ?? Architectures.defaultHidden(arch.rawValue)
        config.objective = objective.rawValue
        config.beta = beta
        config.likelihood = likelihood.rawValue
        config.sigma0 = likelihood == .gaussian ? sigma0 : nil
        (config.lipschitzDecoder, config.lipschitzMean, config.lipschitzStd) = (lipschitzConstants[0], lipschitzConstants[1], lipschitzConstants[2])
        if lipschitzConstants.contains(where: { $0 != nil }) {
            config.bjorckIterations = bjorckIterations ?? 20
            config.groupSize = groupSize ?? 2
            config.bjorckGradient = bjorckGradient ?? .tangent
        }
        config.fixedSigma = fixedSigma
        config.sigmaOffset = sigmaOffset == 0 ? nil : sigmaOffset
        config.sigmaHead = sigmaHead == .sigmoid ? nil : sigmaHead
        config.sigmaMaxNorm = sigmaMaxNorm
        if objective == .provae { config.epsTrain = epsTrain }
        if arch == .hvae { config.groups = groups ?? 2; config.topDown = "residual"; config.latentMap = latentMap }
        let model: any TrainableModel = arch == .hvae ? try HierarchicalVAE(config: config) : try VAE(config: config)
        try OutputOptions.checkWritable([out.output, out.output + ".ckpt"])  // before any training
        var options = TrainingOptions()
        options.epochs = epochs; options.batch = batch; options.learningRate = lr; options.beta = beta
        options.objective = objective.rawValue; options.epsTrain = epsTrain; options.epsRampEpochs = epsRamp
        options.ibpPixelBox = !noPixelBox
        options.validationFraction = valFraction; options.schedule = lrSchedule.rawValue; options.patience = patience ?? 10
        options.stepSize = stepSize ?? 10; options.gamma = gamma ?? 0.5
        options.output = out.output; options.resume = resume; options.keepCheckpoint = keepCheckpoint
        options.binarize = binarize == .dynamic
        options.trainLimit = data.trainLimit
        options.klWarmupEpochs = klWarmup
        options.convergenceTolerance = convergenceTol
        options.initFrom = initFrom
        if klWarmup > Double(epochs) {
            Log.line("note: --kl-warmup \(klWarmup) is longer than the \(epochs) epochs: the KL weight ends near \(String(format: "%.3g", Double(epochs) / klWarmup)) of --beta")
        }
        let trainer = try Trainer(model: model, trainSet: trainSet, testSet: testSet, options: options)
        try trainer.run { try JSONLines.emit($0) }
    }
}

struct Classifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train paper D's linear classifier on a VAE's encoder means.",
        discussion: "Writes the classifier as .safetensors and prints its train and test accuracy as a JSON line.\nExample:\n  vae-train classifier --model vae.safetensors --data fashion-mnist -o \\\n    clf.safetensors")

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: TrainingDataOptions
    @Option(help: "What to predict: class (10 classes) or color (color-mnist's 7 colours).")
    var target: ClassifierTarget = .class
    @Flag(help: "Train and test on binarised images (each pixel drawn once from Bernoulli(intensity), from the seed, as NAME:SPLIT#bin/SEED does; vae-train --binarize dynamic scores its test set on the same images). Off by default.")
    var binarize = false
    @Option(parsing: .unconditional, help: "Training epochs.")
    var epochs = 20
    @Option(parsing: .unconditional, help: "Minibatch size.")
    var batch = 128
    @Option(parsing: .unconditional, help: "SGD learning rate (momentum 0.9).")
    var lr: Float = 0.05
    @OptionGroup var seed: SeedOption
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var out: FileOutputOptions

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be positive, got \(lr)") }
        try out.check(inputs: [model.model])
    }

    func run() throws {
        threads.apply()
        let vae = try model.load()
        try OutputOptions.checkWritable([out.output])
        let (trainSet, testSet) = try data.load(binarizeSeed: binarize ? seed.seed : nil)
        guard trainSet.imageShape == vae.config.inputShape else {
            throw ToolError("\(data.data) images are \(trainSet.imageShape), \(model.model) expects \(vae.config.inputShape)")
        }
        func labels(_ d: Dataset) throws -> [Int] {
            guard let l = target == .color ? d.colorLabels : d.labels else { throw ToolError("\(d.source) has no \(target.rawValue) labels") }
            return l
        }
        let classes = target == .color ? ColorMNIST.colors.count : (trainSet.classCount ?? 10)
        var config = ModelConfig(architecture: "linear-classifier", latent: vae.config.latent, inputShape: vae.config.inputShape,
                                 data: data.data, seed: seed.seed)
        config.classes = classes
        config.extra = ["model": model.model, "model_digest": vae.weightsDigest, "target": target.rawValue, "binarize": binarize ? "fixed" : "none"]
        if data.data != vae.config.data { Log.line("note: \(model.model) was trained on \(vae.config.data), the classifier on \(data.data)") }
        let clf = LatentClassifier(latent: vae.config.latent, classes: classes, config: config)
        let trainAcc = clf.train(features: vae.encoderMeans(trainSet.images), labels: try labels(trainSet), epochs: epochs, batch: batch, learningRate: lr)
        let testPred = clf.predict(vae.encoderMeans(testSet.images))
        let testLabels = try labels(testSet)
        let testAcc = Double(zip(testPred, testLabels).filter { $0 == $1 }.count) / Double(testLabels.count)
        try clf.save(to: out.output)
        try JSONLines.emit(["output": out.output, "train_accuracy": trainAcc, "test_accuracy": testAcc, "classes": classes,
                            "target": target.rawValue, "train_images": trainSet.count, "test_images": testSet.count])
    }
}
