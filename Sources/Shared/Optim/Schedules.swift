/// Learning-rate schedules. Each returns the rate to use for the next epoch.
public protocol LearningRateSchedule: AnyObject {
    /// Called once at the end of an epoch with that epoch's validation loss.
    func rate(afterEpoch epoch: Int, validationLoss: Float, current: Float) -> Float
}

/// Multiplies the rate by `gamma` every `stepSize` epochs.
public final class StepSchedule: LearningRateSchedule {
    public let stepSize: Int, gamma: Float
    public init(stepSize: Int, gamma: Float) {
        precondition(stepSize > 0)
        self.stepSize = stepSize; self.gamma = gamma
    }
    public func rate(afterEpoch epoch: Int, validationLoss: Float, current: Float) -> Float {
        (epoch + 1) % stepSize == 0 ? current * gamma : current
    }
}

/// Multiplies the rate by `factor` once the loss has not improved (by a relative
/// `threshold`) for more than `patience` epochs; never below `minRate`
/// (PyTorch's ReduceLROnPlateau in "min", "rel" mode; paper D's attack halves on plateau).
public final class PlateauSchedule: LearningRateSchedule {
    public let factor: Float, patience: Int, threshold: Float, minRate: Float
    /// Best loss so far and epochs since (public so checkpoints can carry them).
    public var best = Float.infinity
    public var badEpochs = 0

    public init(factor: Float = 0.5, patience: Int = 2, threshold: Float = 1e-4, minRate: Float = 0) {
        self.factor = factor; self.patience = patience; self.threshold = threshold; self.minRate = minRate
    }

    public func rate(afterEpoch epoch: Int, validationLoss: Float, current: Float) -> Float {
        if validationLoss < best * (1 - threshold) || (best == .infinity && validationLoss.isFinite) {
            best = validationLoss
            badEpochs = 0
            return current
        }
        badEpochs += 1
        guard badEpochs > patience else { return current }
        badEpochs = 0
        return max(current * factor, minRate)
    }
}
