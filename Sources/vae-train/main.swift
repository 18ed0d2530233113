import ArgumentParser
import Foundation
import Shared

@main
struct VAETrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae-train",
        abstract: "Train a VAE (standard, β, β-TC, Lipschitz, proVAE) and write one .safetensors file.",
        discussion: """
        Trains on NAME:train (holding out --val-fraction for validation) and reports on NAME:test.
        Progress goes to stderr; a final JSON line (train/validation/test ELBO, test MSE, epochs,
        seconds) to stdout. A checkpoint OUTPUT.ckpt is written after every epoch; --resume
        continues from it, and Ctrl-C saves it before exiting.

        Examples:
          vae-train --data fashion-mnist --arch mlp --latent 10 --epochs 10 -o vae.safetensors
          vae-train --data fashion-mnist --arch mlp --lipschitz 5 --fixed-sigma 0.1 --likelihood cbernoulli -o lip5.safetensors
          vae-train --data mnist --arch conv-small --objective provae --eps-train 0.05 --likelihood gaussian -o provae.safetensors
          vae-train classifier --model vae.safetensors --data fashion-mnist -o clf.safetensors
        """,
        subcommands: [Train.self, Classifier.self],
        defaultSubcommand: Train.self)
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a VAE (the default subcommand).")

    @Option(help: "Dataset name (\(DatasetCatalog.names.joined(separator: ", "))): trains on NAME:train, tests on NAME:test.")
    var data: String
    @Option(help: "Architecture: mlp (paper A), conv (paper D Table 6), conv-small (paper C).")
    var arch = "mlp"
    @Option(help: "Latent size (default: 10 for mlp, 64 for conv, 50 for conv-small).")
    var latent: Int?
    @Option(help: ArgumentHelp("Hidden widths, comma-separated (mlp: 512,512; conv: 32,64,96,128; conv-small: 32,64).", valueName: "w1,w2,..."))
    var hidden: String?
    @Option(help: "Objective: elbo (use --beta for a β-VAE), tcvae (β-TCVAE), provae (paper C).")
    var objective = "elbo"
    @Option(help: "Weight of the KL term (elbo) or of the total correlation (tcvae).")
    var beta: Float = 1
    @Option(name: .customLong("eps-train"), help: "proVAE: L∞ radius the ELBO bound is trained for.")
    var epsTrain: Float = 0
    @Option(name: .customLong("eps-ramp"), help: "proVAE: epochs over which the radius ramps up linearly from 0 (default: half the epochs).")
    var epsRamp: Int?
    @Option(help: "Lipschitz constant of all three networks (paper A; mlp only).")
    var lipschitz: Float?
    @Option(name: .customLong("lipschitz-decoder"), help: "Lipschitz constant a of the decoder (overrides --lipschitz).")
    var lipschitzDecoder: Float?
    @Option(name: .customLong("lipschitz-mean"), help: "Lipschitz constant b of the encoder mean.")
    var lipschitzMean: Float?
    @Option(name: .customLong("lipschitz-std"), help: "Lipschitz constant c of the encoder standard deviation.")
    var lipschitzStd: Float?
    @Option(name: .customLong("bjorck-iterations"), help: "Björck iterations per forward pass of a Lipschitz layer.")
    var bjorckIterations = 20
    @Option(name: .customLong("group-size"), help: "GroupSort group size in Lipschitz networks (2 = MaxMin).")
    var groupSize = 2
    @Option(name: .customLong("fixed-sigma"), help: "Use this constant encoder standard deviation (paper A Theorem 2).")
    var fixedSigma: Float?
    @Option(name: .customLong("sigma-offset"), help: "Add τ to the encoder standard deviation (paper B section 4.2).")
    var sigmaOffset: Float = 0
    @Option(help: "Likelihood: bernoulli, cbernoulli (continuous Bernoulli), gaussian.")
    var likelihood = "bernoulli"
    @Option(help: "Standard deviation of the Gaussian likelihood.")
    var sigma0: Float = 1
    @Option(help: "Training epochs.")
    var epochs = 10
    @Option(help: "Minibatch size.")
    var batch = 128
    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3
    @Option(name: .customLong("lr-schedule"), help: "none, plateau (×gamma after --patience epochs without validation improvement), step (×gamma every --step-size epochs).")
    var lrSchedule = "none"
    @Option(help: "Plateau schedule patience in epochs.")
    var patience = 10
    @Option(name: .customLong("step-size"), help: "Step schedule period in epochs.")
    var stepSize = 10
    @Option(help: "Learning-rate factor of the schedules.")
    var gamma: Float = 0.5
    @Option(name: .customLong("val-fraction"), help: "Share of the training split held out for validation.")
    var valFraction: Float = 0.1
    @Option(name: .customLong("train-limit"), help: "Use only the first N training images (quick runs).")
    var trainLimit: Int?
    @Option(help: "Seed of every random choice (initialisation, data order, sampling).")
    var seed: UInt64 = 0
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Flag(help: "Continue from OUTPUT.ckpt.")
    var resume = false
    @Option(name: .shortAndLong, help: "Output .safetensors file.")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-train") {
            BLAS.setThreads(threads)
            guard bjorckIterations >= 1, groupSize >= 1, stepSize >= 1, patience >= 0 else {
                throw ToolError("--bjorck-iterations, --group-size and --step-size must be at least 1, --patience at least 0")
            }
            if let l = trainLimit, l < 1 { throw ToolError("--train-limit must be at least 1") }
            let trainSet = try DatasetCatalog.load("\(data):train")
            let testSet = try DatasetCatalog.load("\(data):test")
            var config = ModelConfig(architecture: arch, latent: latent ?? Architectures.defaultLatent(arch),
                                     inputShape: trainSet.imageShape, data: data, seed: seed)
            if let h = hidden {
                let ws = h.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard ws.allSatisfy({ $0 != nil }) else { throw ToolError("--hidden takes comma-separated integers, got '\(h)'") }
                config.hidden = ws.map { $0! }
            } else {
                config.hidden = Architectures.defaultHidden(arch)
            }
            config.objective = objective
            config.beta = beta
            config.likelihood = likelihood
            config.sigma0 = likelihood == "gaussian" ? sigma0 : nil
            config.lipschitzDecoder = lipschitzDecoder ?? lipschitz
            config.lipschitzMean = lipschitzMean ?? lipschitz
            config.lipschitzStd = fixedSigma == nil ? (lipschitzStd ?? lipschitz) : nil
            for m in [config.lipschitzDecoder, config.lipschitzMean, config.lipschitzStd].compactMap({ $0 }) where !(m > 0) {
                throw ToolError("Lipschitz constants must be positive")
            }
            if [config.lipschitzDecoder, config.lipschitzMean, config.lipschitzStd].contains(where: { $0 != nil }) {
                config.bjorckIterations = bjorckIterations
                config.groupSize = groupSize
            }
            if let s = fixedSigma { guard s > 0 else { throw ToolError("--fixed-sigma must be positive") }; config.fixedSigma = s }
            guard sigmaOffset >= 0 else { throw ToolError("--sigma-offset must be non-negative") }
            config.sigmaOffset = sigmaOffset == 0 ? nil : sigmaOffset
            if objective == "provae" {
                guard epsTrain >= 0 else { throw ToolError("--eps-train must be non-negative") }
                config.epsTrain = epsTrain
            }
            let model = try VAE(config: config)
            var options = TrainingOptions()
            options.epochs = epochs; options.batch = batch; options.learningRate = lr; options.beta = beta
            options.objective = objective; options.epsTrain = epsTrain; options.epsRampEpochs = epsRamp
            options.validationFraction = valFraction; options.schedule = lrSchedule; options.patience = patience
            options.stepSize = stepSize; options.gamma = gamma; options.trainLimit = trainLimit
            options.output = output; options.resume = resume
            let trainer = try Trainer(model: model, trainSet: trainSet, testSet: testSet, options: options)
            let summary = try trainer.run()
            try ToolRunner.emit(summary)
        }
    }
}

struct Classifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train paper D's linear classifier on a VAE's encoder means.",
        discussion: "Example: vae-train classifier --model vae.safetensors --data fashion-mnist -o clf.safetensors")

    @Option(help: "Trained VAE (.safetensors).")
    var model: String
    @Option(help: "Dataset name: trains on NAME:train, reports accuracy on NAME:test.")
    var data: String
    @Option(help: "What to predict: class (10 classes) or color (color-mnist's 7 colours).")
    var target = "class"
    @Option(help: "Training epochs.")
    var epochs = 20
    @Option(help: "Minibatch size.")
    var batch = 128
    @Option(help: "SGD learning rate (momentum 0.9).")
    var lr: Float = 0.05
    @Option(help: "Seed of initialisation and data order.")
    var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Output .safetensors file.")
    var output: String

    func run() throws {
        try ToolRunner.run("vae-train classifier") {
            guard batch >= 1, epochs >= 0, lr > 0 else { throw ToolError("--batch must be at least 1, --epochs non-negative and --lr positive") }
            let (vae, _) = try VAE.load(model)
            let trainSet = try DatasetCatalog.load("\(data):train"), testSet = try DatasetCatalog.load("\(data):test")
            guard trainSet.imageShape == vae.config.inputShape else {
                throw ToolError("\(data) images are \(trainSet.imageShape), \(model) expects \(vae.config.inputShape)")
            }
            func labels(_ d: Dataset) throws -> [Int] {
                switch target {
                case "class": if let l = d.labels { return l }
                case "color": if let l = d.colorLabels { return l }
                default: throw ToolError("--target is class or color, got '\(target)'")
                }
                throw ToolError("\(d.source) has no \(target) labels")
            }
            let classes = target == "color" ? ColorMNIST.colors.count : (trainSet.classCount ?? 10)
            var config = ModelConfig(architecture: "linear-classifier", latent: vae.config.latent, inputShape: vae.config.inputShape, data: data, seed: seed)
            config.classes = classes
            config.extra = ["model": model, "target": target]
            let clf = LatentClassifier(latent: vae.config.latent, classes: classes, config: config)
            let trainAcc = clf.train(features: vae.encoderMeans(trainSet.images), labels: try labels(trainSet), epochs: epochs, batch: batch, learningRate: lr)
            let testPred = clf.predict(vae.encoderMeans(testSet.images))
            let testLabels = try labels(testSet)
            let testAcc = Double(zip(testPred, testLabels).filter { $0 == $1 }.count) / Double(testLabels.count)
            try clf.save(to: output)
            try ToolRunner.emit(["output": output, "train_accuracy": trainAcc, "test_accuracy": testAcc, "classes": classes, "target": target])
        }
    }
}
