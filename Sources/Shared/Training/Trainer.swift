import Foundation

/// Everything a training run needs besides the model configuration.
public struct TrainingOptions {
    public var epochs = 10
    public var batch = 128
    public var learningRate: Float = 1e-3
    public var beta: Float = 1
    public var objective = "elbo"
    /// proVAE's target radius and the epochs over which it ramps up linearly from 0.
    public var epsTrain: Float = 0
    public var epsRampEpochs: Int? = nil
    /// proVAE: clip the trained ball to the pixel range [0, 1] (`VAE.elboLowerBound`);
    /// false trains on the whole ball, x ± ε, as paper C states its bound.
    public var ibpPixelBox = true
    /// Share of the training split held out for validation.
    public var validationFraction: Float = 0.1
    /// `none`, `plateau` (halve after `patience` epochs without improvement) or `step`.
    public var schedule = "none"
    public var patience = 10
    public var stepSize = 10
    public var gamma: Float = 0.5
    /// Use at most this many training images (quick runs).
    public var trainLimit: Int? = nil
    public var output = "vae.safetensors"
    public var resume = false
    /// Keep `OUTPUT.ckpt` after a successful run (it is removed otherwise).
    public var keepCheckpoint = false
    /// Dynamic binarisation (paper D): every training batch is drawn afresh from
    /// Bernoulli(pixel intensity), from the seed, the epoch and the batch; the validation and
    /// test images are binarised once, from the seed (the test images as `NAME:test#bin/SEED`
    /// binarises them).
    public var binarize = false
    /// KL warm-up (NVAE's, for the hierarchical VAE in particular): the KL weight rises
    /// linearly from 0 to β over this many epochs, batch by batch (nil or 0: β throughout).
    public var klWarmupEpochs: Double? = nil
    /// Start from this model file's weights instead of the seed's initialisation (`--init`,
    /// see `Trainer.initialise(from:)`).
    public var initFrom: String? = nil
    /// Paper A's "to convergence" (the authors' trainer, Lipschitz_VAEs `train_VAE.py`: stop
    /// once |mean training loss of an epoch − the previous epoch's| ≤ `convergence_tol`, 1 nat in
    /// their fixed-σ configs): with a tolerance, training stops after the first epoch whose
    /// mean batch loss is within it of the epoch before's, and `epochs` is the most it runs. With a
    /// KL warm-up, only epochs that start after it count.
    public var convergenceTolerance: Double? = nil
    /// Stop as if interrupted after this many batches (tests and time-boxed runs).
    public var stopAfterBatches: Int? = nil
    public init() {}
}

/// Trains a VAE: Adam on minibatches, validation ELBO every epoch, a checkpoint after every
/// epoch (`OUTPUT.ckpt`, with the optimizer state, for `--resume`), Ctrl-C saves and stops,
/// a NaN loss stops with the last good checkpoint kept. The data order of epoch e and the
/// sampling noise of its batch b are drawn from the seed, e and b alone, so a run resumed
/// from any checkpoint, even one saved mid-epoch, continues exactly as if uninterrupted.
public final class Trainer {
    public let model: any TrainableModel
    public let options: TrainingOptions
    let train: Tensor, validation: Tensor, test: Tensor
    let progress = Progress()
    /// The digest of the `--init` model's weights, once loaded.
    var initDigest: String? = nil
    public var checkpointPath: String { options.output + ".ckpt" }

    public init(model: any TrainableModel, trainSet: Dataset, testSet: Dataset, options: TrainingOptions) throws {
        self.model = model
        self.options = options
        guard trainSet.imageShape == model.config.inputShape else {
            throw ToolError("training images have shape \(trainSet.imageShape), the model expects \(model.config.inputShape)")
        }
        var all = trainSet.images
        if let l = options.trainLimit {
            guard l >= 1 else { throw ToolError("--train-limit must be at least 1") }
            all = all.rows(0..<min(l, all.shape[0]))
        }
        let n = all.shape[0]
        let nVal = Int((Float(n) * options.validationFraction).rounded())
        guard n - nVal >= 1, (0..<1).contains(options.validationFraction) else {
            throw ToolError("--val-fraction \(options.validationFraction) leaves no training images out of \(n)")
        }
        // a fixed random hold-out, drawn from the seed
        var rng = RNG(seed: model.config.seed).derived(2)
        let perm = rng.permutation(n)
        train = all.gatherRows(Array(perm[nVal...]))
        var val = nVal > 0 ? all.gatherRows(Array(perm[..<nVal])) : Tensor.zeros([0] + model.config.inputShape)
        var tst = testSet.images
        if options.binarize {
            var r = RNG(seed: model.config.seed).derived(0xB1_0001); val = val.binarized(rng: &r)
            var t = DatasetCatalog.binarizationStream(seed: model.config.seed, split: "test"); tst = tst.binarized(rng: &t)
        }
        validation = val
        test = tst
    }

    var objective: Objective {
        get throws {
            switch options.objective {
            case "elbo", "beta": return .elbo
            case "tcvae": return .tcvae(datasetSize: train.shape[0])
            case "provae": return .provae(epsilon: options.epsTrain, pixelBox: options.ibpPixelBox)
            default: throw ToolError("unknown objective '\(options.objective)' (elbo, tcvae, provae)")
            }
        }
    }

    /// proVAE's ramp-up in epochs: `--eps-ramp`, or the checkpoint's when a resumed run gives
    /// none (so that `--epochs` may grow), or half the epochs, rounded down, at least 1.
    var rampEpochs: Int { options.epsRampEpochs ?? resumedRampEpochs ?? max(1, options.epochs / 2) }
    /// The ramp a checkpoint recorded, read before a resume (see `rampEpochs`).
    var resumedRampEpochs: Int? = nil

    /// What this run records about itself (provenance, and the resume check).
    var record: TrainingRecord {
        let provae = options.objective == "provae"
        var r = TrainingRecord(epochs: options.epochs, batch: options.batch, learningRate: options.learningRate, schedule: options.schedule,
                              patience: options.schedule == "plateau" ? options.patience : nil,
                              stepSize: options.schedule == "step" ? options.stepSize : nil,
                              gamma: options.schedule == "none" ? nil : options.gamma,
                              validationFraction: options.validationFraction, trainImages: train.shape[0] + validation.shape[0],
                              trainLimit: options.trainLimit, epsTrain: provae ? options.epsTrain : nil, epsRampEpochs: provae ? rampEpochs : nil,
                              binarize: options.binarize ? "dynamic" : "none")
        r.klWarmupEpochs = (options.klWarmupEpochs ?? 0) > 0 ? options.klWarmupEpochs : nil
        r.initModel = options.initFrom; r.initDigest = initDigest
        r.convergenceTol = options.convergenceTolerance
        r.pixelBox = provae && !options.ibpPixelBox ? false : nil
        return r
    }

    /// proVAE's radius for a point `progress` epochs into training (linear ramp-up).
    func epsilon(atEpoch progress: Double) -> Float {
        let ramp = Double(rampEpochs)
        return ramp <= 0 ? options.epsTrain : options.epsTrain * Float(min(1, progress / ramp))
    }

    /// Runs training and returns the final summary, which `report` (vae-train: print it as a
    /// JSON line) receives just before the model file is renamed into place.
    @discardableResult
    public func run(report: ([String: Any]) throws -> Void = { _ in }) throws -> [String: Any] {
        let objective = try self.objective
        guard options.epochs >= 1, options.batch >= 1, options.learningRate > 0 else {
            throw ToolError("--epochs, --batch and --lr must be positive")
        }
        let adam = Adam(parameters: model.parameters, learningRate: options.learningRate)
        let schedule: LearningRateSchedule? = switch options.schedule {
        case "plateau": PlateauSchedule(factor: options.gamma, patience: options.patience)
        case "step": StepSchedule(stepSize: options.stepSize, gamma: options.gamma)
        case "none": nil
        default: throw ToolError("unknown --lr-schedule '\(options.schedule)' (none, plateau, step)")
        }
        // before a resume, which then replaces these weights by the checkpoint's: the digest
        // goes into the record that the checkpoint's must match
        if let path = options.initFrom { initDigest = try initialise(from: path) }
        // read once: its recorded ramp is the default of a resumed run (`rampEpochs`), and
        // `restore` takes the rest from it
        let checkpoint = options.resume ? try readCheckpoint() : nil
        if let file = checkpoint, options.epsRampEpochs == nil {
            resumedRampEpochs = (try? ModelConfig.from(file, name: checkpointPath))?.training?.epsRampEpochs
        }
        model.recordTraining(record)
        if case .provae = objective, rampEpochs > options.epochs {
            progress.line("note: --eps-ramp \(rampEpochs) is longer than the run: training ends at radius \(epsilon(atEpoch: Double(options.epochs))) of \(options.epsTrain)")
        }
        var startEpoch = 0, startBatch = 0
        var secondsBefore = 0.0
        var resumedSums = EpochSums(), resumedLast = LastEpoch()
        if let checkpoint {
            (startEpoch, startBatch, secondsBefore, resumedSums, resumedLast) = try restore(checkpoint, adam: adam, schedule: schedule)
            guard startEpoch <= options.epochs else {
                throw ToolError.usage("\(checkpointPath): \(startEpoch) epochs are done already; --epochs \(options.epochs) is fewer")
            }
            progress.line(startEpoch == options.epochs ? "\(checkpointPath): all \(startEpoch) epochs are done; nothing to train"
                                                       : "resumed from \(checkpointPath) at epoch \(startEpoch + 1), batch \(startBatch + 1)")
        }
        Interrupt.install()
        let n = train.shape[0]
        let batchesPerEpoch = (n + options.batch - 1) / options.batch
        var lastTrainELBO = resumedLast.train
        var lastVal: (elbo: Double, mse: Double, bound: Double?) = (resumedLast.validation, .nan, nil)
        let t0 = Date()
        var imagesDone = 0, batchesRun = 0
        // time in the batch loops alone (the images-per-second figures leave out validation,
        // checkpoints and the test evaluation)
        var trainingSeconds = 0.0
        // the epochs done and whether the convergence rule stopped them (a resumed run whose
        // checkpoint had converged trains no further)
        var epochsDone = startEpoch, converged = resumedLast.converged
        var previousLoss = resumedLast.loss
        for epoch in startEpoch..<options.epochs where !converged {
            let epochStart = Date()
            var order = RNG(seed: model.config.seed).derived(1000 + UInt64(epoch))
            let perm = order.permutation(n)
            // a resumed epoch carries on the sums of its batches before the interruption
            let carried = epoch == startEpoch ? resumedSums : EpochSums()
            var sumELBO = carried.elbo, sumLoss = carried.loss, epochImages = carried.images
            let firstBatch = epoch == startEpoch ? startBatch : 0
            for b in firstBatch..<batchesPerEpoch {
                if Interrupt.requested || options.stopAfterBatches.map({ batchesRun >= $0 }) == true {
                    try saveCheckpoint(adam: adam, schedule: schedule, epochsDone: epoch, batchesDone: b,
                                       seconds: secondsBefore + Date().timeIntervalSince(t0),
                                       sums: EpochSums(elbo: sumELBO, loss: sumLoss, images: epochImages),
                                       last: LastEpoch(train: lastTrainELBO, validation: lastVal.elbo, loss: previousLoss))
                    throw ToolError("interrupted in epoch \(epoch + 1) before batch \(b + 1): saved \(checkpointPath); continue with --resume",
                                    exitCode: 130)
                }
                batchesRun += 1
                var noise = RNG(seed: model.config.seed).derived(0x4E00_0000_0000 + UInt64(epoch) << 24 + UInt64(b))
                let idx = Array(perm[(b * options.batch)..<min(n, (b + 1) * options.batch)])
                var xb = train.gatherRows(idx)
                if options.binarize {
                    var draws = RNG(seed: model.config.seed).derived(0xB100_0000_0000 + UInt64(epoch) << 24 + UInt64(b))
                    xb = xb.binarized(rng: &draws)
                }
                // epochs done at this batch: proVAE's radius ramp and the KL warm-up follow it
                let progressEpochs = Double(epoch) + Double(b) / Double(batchesPerEpoch)
                var obj = objective
                if case .provae = objective { obj = .provae(epsilon: epsilon(atEpoch: progressEpochs), pixelBox: options.ibpPixelBox) }
                // The graph is dropped before the optimizer step: while it lives, its backward
                // closures share the weights' buffers, and updating them in place would copy
                // every weight first (copy-on-write).
                let (lossValue, batchELBO): (Float, Float) = {
                    let warm = options.klWarmupEpochs.map { $0 > 0 ? Float(Swift.min(1, progressEpochs / $0)) : 1 } ?? 1
                    let l = model.loss(xb, objective: obj, beta: options.beta * warm, rng: &noise)
                    let v = l.loss.value.scalar
                    if v.isFinite { l.loss.backward() }
                    return (v, l.elbo)
                }()
                guard lossValue.isFinite else {
                    throw ToolError("training diverged (loss \(lossValue.isNaN ? "NaN" : String(lossValue))) in epoch \(epoch + 1), batch \(b + 1); "
                        + (epoch > startEpoch || options.resume ? "the last good checkpoint is \(checkpointPath)" : "no checkpoint was written yet")
                        + "; try a lower --lr")
                }
                adam.step()
                model.projectLipschitzLayers()
                sumELBO += Double(batchELBO) * Double(idx.count)
                sumLoss += Double(lossValue)
                imagesDone += idx.count
                epochImages += idx.count
                let elapsed = trainingSeconds + Date().timeIntervalSince(epochStart)
                let rate = Double(imagesDone) / max(elapsed, 1e-9)
                let remainingImages = Double((options.epochs - epoch) * n - (b + 1) * options.batch)
                progress.update(epoch: epoch + 1, epochs: options.epochs, fraction: Double(b + 1) / Double(batchesPerEpoch),
                                imagesPerSecond: rate, loss: Float(sumLoss / Double(b + 1)), remaining: remainingImages / rate)
            }
            trainingSeconds += Date().timeIntervalSince(epochStart)
            lastTrainELBO = sumELBO / Double(max(epochImages, 1))
            if validation.shape[0] > 0 {
                lastVal = model.evaluateForTraining(validation, seed: 7, boundRadius: nil, pixelBox: options.ibpPixelBox)
            }
            if let s = schedule {
                // the validation loss, or the training loss when nothing is held out
                let monitored = validation.shape[0] > 0 ? -lastVal.elbo : -lastTrainELBO
                adam.learningRate = s.rate(afterEpoch: epoch, validationLoss: Float(monitored), current: adam.learningRate)
            }
            let rate = Double(imagesDone) / max(trainingSeconds, 1e-9)
            // with nothing held out (--val-fraction 0) there is no validation ELBO to print
            let val = lastVal.elbo.isFinite ? String(format: "%.3f", lastVal.elbo) : "none (no validation images)"
            // a proVAE trains on the certified bound (at the ramp's radius), not on the ELBO
            let trained = if case .provae = objective { "train bound" } else { "train ELBO" }
            progress.line(String(format: "epoch %d/%d: ", epoch + 1, options.epochs) + trained
                          + String(format: " %.3f, validation ELBO ", lastTrainELBO)
                          + val + String(format: ", %.0f img/s, lr %.2g", rate, adam.learningRate))
            // the mean batch loss of the epoch, as the authors' loss meter averages it (not the
            // train ELBO above, which weights a partial last batch by its size). Epochs that
            // began inside a KL warm-up take no part: their loss is not the objective's yet.
            let epochLoss = sumLoss / Double(batchesPerEpoch)
            let fullWeight = Double(epoch) >= (options.klWarmupEpochs ?? 0)
            if let tol = options.convergenceTolerance, fullWeight, previousLoss.isFinite, Swift.abs(epochLoss - previousLoss) <= tol {
                converged = true
                progress.line(String(format: "converged after epoch %d: mean batch loss %.3f, %.3g nats from the epoch before's (--convergence-tol %g)",
                                     epoch + 1, epochLoss, Swift.abs(epochLoss - previousLoss), tol))
            }
            previousLoss = fullWeight ? epochLoss : .nan
            epochsDone = epoch + 1
            try saveCheckpoint(adam: adam, schedule: schedule, epochsDone: epoch + 1, batchesDone: 0,
                               seconds: secondsBefore + Date().timeIntervalSince(t0),
                               last: LastEpoch(train: lastTrainELBO, validation: lastVal.elbo, loss: epochLoss, converged: converged))
        }
        if let tol = options.convergenceTolerance {
            if !converged { progress.line("did not converge within --epochs \(options.epochs) (--convergence-tol \(tol))") }
            var r = record; r.epochsRun = epochsDone; r.converged = converged
            model.recordTraining(r)
        }
        let seconds = secondsBefore + Date().timeIntervalSince(t0)
        model.finalizeLipschitzLayers(extraIterations: 50)
        let testRadius: Float? = if case .provae = objective { options.epsTrain } else { nil }
        let testEval = model.evaluateForTraining(test, seed: 11, boundRadius: testRadius, pixelBox: options.ibpPixelBox)
        var summary: [String: Any] = [
            "output": options.output, "epochs": epochsDone, "seconds": (seconds * 100).rounded() / 100,
            "train_elbo": lastTrainELBO, "validation_elbo": lastVal.elbo,
            "test_elbo": testEval.elbo, "test_mse": testEval.mse,
            "images_per_second": Double(imagesDone) / max(trainingSeconds, 1e-9),
        ]
        if let b = testEval.bound, testRadius != nil {
            summary["test_elbo_bound"] = b; summary["eps_train"] = options.epsTrain.shortestDecimal; summary["pixel_box"] = options.ibpPixelBox
            // a ramp longer than the run ends below the target radius: the bound there too
            let reached = epsilon(atEpoch: Double(options.epochs))
            if reached < options.epsTrain {
                summary["eps_reached"] = reached.shortestDecimal
                summary["test_elbo_bound_reached"] = model.evaluateForTraining(test, seed: 11, boundRadius: reached, pixelBox: options.ibpPixelBox).bound
            }
        }
        // a proVAE can collapse to an encoder that ignores its input (the bound of paper C Eq. 21
        // is then met by a decoder that draws one picture): measure ‖∂μ/∂x‖_F as vae-eval
        // encoder-stats does, on the first test images, and say so loudly
        if case .provae = objective, let vae = model as? VAE, test.shape[0] > 0 {
            let n = Swift.min(test.shape[0], 20)
            let jacobian = Summary(vae.encoderStats(test.rows(0..<n)).map(\.jacobianFrobenius)).mean
            summary["encoder_jacobian"] = jacobian
            if jacobian < 1e-3 {
                progress.line("warning: the encoder ignores its input (mean ‖∂μ/∂x‖_F \(String(format: "%.2e", jacobian)) over \(n) test images): "
                              + "a collapsed proVAE. Train a plain VAE first and fine-tune it (--init), on more images or with a longer --eps-ramp")
            }
        }
        if options.convergenceTolerance != nil { summary["converged"] = converged; summary["max_epochs"] = options.epochs }
        if let norms = model.config.spectralNorms { summary["max_spectral_norm"] = norms.values.max() }
        if let bounds = model.config.spectralNormBounds { summary["max_spectral_norm_bound"] = bounds.values.max() }
        // the summary goes out before the model is renamed into place: a failure to report it
        // leaves no model file behind
        try model.save(to: options.output) { try report(summary) }
        if !options.keepCheckpoint { try? FileManager.default.removeItem(atPath: checkpointPath) }
        return summary
    }

    // MARK: checkpoints

    /// The running sums of an epoch's batches (ELBO weighted by batch size, loss, images), kept
    /// in a mid-epoch checkpoint so that a resumed epoch reports the same figures.
    struct EpochSums { var elbo = 0.0, loss = 0.0, images = 0 }

    /// The last whole epoch's training and validation ELBO, kept in a checkpoint so that a
    /// run resumed after its last epoch still reports them; its mean batch loss and whether the
    /// convergence rule stopped there, so that a resumed run applies the rule as an
    /// uninterrupted one does.
    struct LastEpoch { var train = Double.nan, validation = Double.nan, loss = Double.nan, converged = false }

    /// Saves weights, optimizer and schedule state, and the position: `epochsDone` whole
    /// epochs plus `batchesDone` batches of the next, with those batches' `sums`.
    func saveCheckpoint(adam: Adam, schedule: LearningRateSchedule?, epochsDone: Int, batchesDone: Int, seconds: Double,
                        sums: EpochSums = EpochSums(), last: LastEpoch = LastEpoch()) throws {
        let names = model.namedParameters.map(\.name)
        var extra: [(name: String, tensor: Tensor)] = []
        var steps: [String] = []
        for (name, s) in zip(names, adam.state) {
            extra.append(("adam.m." + name, Tensor(shape: [s.m.count], data: s.m)))
            extra.append(("adam.v." + name, Tensor(shape: [s.v.count], data: s.v)))
            steps.append(String(s.t))
        }
        var meta = ["epochs_done": String(epochsDone), "batches_done": String(batchesDone),
                    "lr": String(adam.learningRate), "seconds": String(seconds),
                    "adam_steps": steps.joined(separator: ","),
                    "epoch_elbo_sum": String(sums.elbo), "epoch_loss_sum": String(sums.loss), "epoch_images": String(sums.images),
                    "last_train_elbo": String(last.train), "last_validation_elbo": String(last.validation),
                    "last_epoch_loss": String(last.loss), "converged": last.converged ? "1" : "0"]
        if let p = schedule as? PlateauSchedule { meta["plateau_best"] = String(p.best); meta["plateau_bad"] = String(p.badEpochs) }
        try model.save(to: checkpointPath, extraTensors: extra, extraMetadata: meta)
    }

    /// `--init MODEL`: training starts from MODEL's weights (fine-tuning), with a fresh
    /// optimizer. The standard recipe for interval-bound training (Gowal et al. 2018, the
    /// method paper C's Algorithm 1 applies to VAEs) trains at ε = 0 first and only then ramps ε
    /// up; a plain VAE's file is that first phase. The network must be the same (architecture,
    /// sizes, groups and top-down update, input shape, Lipschitz layout, fixed σ, σ head); the objective,
    /// β, likelihood, σ offset and dataset may differ. Returns the digest of the file's weights.
    func initialise(from path: String) throws -> String {
        let file = try SafeTensors.read(path)
        let theirs = try ModelConfig.from(file, name: path), mine = model.config
        var differ: [String] = []
        func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { differ.append("\(name) \(b) (this run: \(a))") } }
        func text(_ v: Float?) -> String { v.map { "\($0)" } ?? "-" }
        cmp("architecture", mine.architecture, theirs.architecture)
        cmp("latent", mine.latent, theirs.latent)
        cmp("hidden", mine.hidden, theirs.hidden)
        // the hierarchy's own fields, when both are hierarchical (else the architecture differs)
        if mine.architecture == "hvae" && theirs.architecture == "hvae" {
            cmp("groups", mine.groups ?? 1, theirs.groups ?? 1)
            cmp("top-down update", mine.topDown ?? "plain", theirs.topDown ?? "plain")
            cmp("latent map channels", mine.latentMap ?? 0, theirs.latentMap ?? 0)
        }
        cmp("input shape", mine.inputShape, theirs.inputShape)
        cmp("Lipschitz constants", [mine.lipschitzDecoder, mine.lipschitzMean, mine.lipschitzStd].map(text),
            [theirs.lipschitzDecoder, theirs.lipschitzMean, theirs.lipschitzStd].map(text))
        cmp("group size", mine.groupSize ?? 0, theirs.groupSize ?? 0)
        cmp("fixed sigma", text(mine.fixedSigma), text(theirs.fixedSigma))
        cmp("sigma head", (mine.sigmaHead ?? .sigmoid).optionName, (theirs.sigmaHead ?? .sigmoid).optionName)
        guard differ.isEmpty else {
            throw ToolError.file(path, "is a different network from this run's (\(differ.joined(separator: ", "))); --init needs the same one")
        }
        try model.loadWeights(from: file, name: path)
        // the file's own weights (for a Lipschitz model, before the projection below)
        let digest = model.weightsDigest
        model.projectLipschitzLayers()
        if !options.resume {
            progress.line("starting from the weights of \(path) (trained as \(theirs.objective)\(theirs.epsTrain.map { ", eps \($0)" } ?? ""))")
        }
        return digest
    }

    /// `OUTPUT.ckpt`, for `--resume`.
    func readCheckpoint() throws -> SafeTensors.File {
        guard FileManager.default.fileExists(atPath: checkpointPath) else {
            throw ToolError.file(checkpointPath, "no checkpoint to resume from")
        }
        return try SafeTensors.read(checkpointPath)
    }

    /// Weights, optimizer state and position in training from the checkpoint `file`.
    func restore(_ file: SafeTensors.File, adam: Adam, schedule: LearningRateSchedule?) throws -> (epochs: Int, batches: Int, seconds: Double, sums: EpochSums, last: LastEpoch) {
        let saved = try ModelConfig.from(file, name: checkpointPath)
        var mine = model.config, theirs = saved
        mine.spectralNorms = nil; theirs.spectralNorms = nil
        mine.spectralNormBounds = nil; theirs.spectralNormBounds = nil
        mine.training = nil; theirs.training = nil
        guard mine == theirs else {
            // name the fields that differ, from the two configurations' JSON
            var differ: [String] = []
            if let a = try? JSONSerialization.jsonObject(with: Data(mine.json().utf8)) as? [String: Any],
               let b = try? JSONSerialization.jsonObject(with: Data(theirs.json().utf8)) as? [String: Any] {
                for key in Set(a.keys).union(b.keys).sorted() where a[key] as? NSObject != b[key] as? NSObject {
                    differ.append("\(key) \(a[key].map { "\($0)" } ?? "-") (checkpoint: \(b[key].map { "\($0)" } ?? "-"))")
                }
            }
            let which = differ.isEmpty ? "" : " (\(differ.joined(separator: ", ")))"
            throw ToolError.file(checkpointPath, "was written for a different model configuration\(which); remove it or match the options")
        }
        if let before = saved.training {
            let differ = before.resumeMismatches(record)
            guard differ.isEmpty else {
                throw ToolError.usage("\(checkpointPath): was written by a run with other options (\(differ.joined(separator: ", "))); resume with the checkpoint's options, or remove it")
            }
        }
        try model.loadWeights(from: file, name: checkpointPath)
        guard let done = file.metadata["epochs_done"].flatMap(Int.init), let lr = file.metadata["lr"].flatMap(Float.init),
              let steps = file.metadata["adam_steps"]?.split(separator: ",").compactMap({ Int($0) }),
              steps.count == model.parameters.count else {
            throw ToolError.file(checkpointPath, "is not a training checkpoint (no optimizer state)")
        }
        var state: [(m: [Float], v: [Float], t: Int)] = []
        for ((name, p), t) in zip(model.namedParameters, steps) {
            guard let m = file["adam.m." + name], let v = file["adam.v." + name], m.count == p.value.count, v.count == p.value.count else {
                throw ToolError.file(checkpointPath, "optimizer state for '\(name)' is missing or has the wrong size")
            }
            state.append((m.data, v.data, t))
        }
        adam.state = state
        adam.learningRate = lr
        // after an optimizer step, every checkpoint holds weights project() left
        if steps.contains(where: { $0 > 0 }) { model.markLipschitzLayersProjected() }
        if let p = schedule as? PlateauSchedule {
            p.best = file.metadata["plateau_best"].flatMap(Float.init) ?? .infinity
            p.badEpochs = file.metadata["plateau_bad"].flatMap(Int.init) ?? 0
        }
        let sums = EpochSums(elbo: file.metadata["epoch_elbo_sum"].flatMap(Double.init) ?? 0,
                             loss: file.metadata["epoch_loss_sum"].flatMap(Double.init) ?? 0,
                             images: file.metadata["epoch_images"].flatMap(Int.init) ?? 0)
        let last = LastEpoch(train: file.metadata["last_train_elbo"].flatMap(Double.init) ?? .nan,
                             validation: file.metadata["last_validation_elbo"].flatMap(Double.init) ?? .nan,
                             loss: file.metadata["last_epoch_loss"].flatMap(Double.init) ?? .nan,
                             converged: file.metadata["converged"] == "1")
        return (done, file.metadata["batches_done"].flatMap(Int.init) ?? 0, file.metadata["seconds"].flatMap(Double.init) ?? 0, sums, last)
    }
}
