// swift-tools-version:5.9
import Foundation
import PackageDescription

/// Swift compiles for baseline x86-64 (SSE2) unless told otherwise, so every SIMD8 kernel would
/// run at half width without FMA. When the building machine has AVX2 and FMA (every machine this
/// project targets has), `Shared` is compiled for Haswell-class CPUs; set
/// ROBUSTVAE_PORTABLE=1 to build binaries for any x86-64 machine.
let hostHasAVX2: Bool = {
    #if os(Linux) && arch(x86_64)
    if ProcessInfo.processInfo.environment["ROBUSTVAE_PORTABLE"] == "1" { return false }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let have = Set(flags.split(separator: " ").map(String.init))
    return ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt"].allSatisfy(have.contains)
    #else
    return false
    #endif
}()

/// Float.squareRoot() goes through C's sqrtf, which with errno semantics stays scalar (sqrtss
/// and a libm call per lane); without them SIMD square roots vectorise.
let kernelFlags = ["-Xcc", "-fno-math-errno"] + (hostHasAVX2 ? ["-target-cpu", "haswell"] : [])

/// RobustVAE: small command-line tools for the adversarial robustness of VAEs.
/// All numeric and file logic lives in `Shared`; `CLI` holds what the command lines share;
/// the five executables are thin front ends.
let package = Package(
    name: "RobustVAE",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Shared", targets: ["Shared"]),
        .executable(name: "vae-train", targets: ["vae-train"]),
        .executable(name: "vae-attack", targets: ["vae-attack"]),
        .executable(name: "vae-certify", targets: ["vae-certify"]),
        .executable(name: "vae-hmc", targets: ["vae-hmc"]),
        .executable(name: "vae-eval", targets: ["vae-eval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's <malloc.h> (mallopt), which the Glibc module does not export
        .systemLibrary(name: "CSystem"),
        .target(
            name: "Shared",
            dependencies: [
                "COpenBLAS", "CPNG", "CZlib", "CSystem",
            ],
            swiftSettings: [.unsafeFlags(kernelFlags)] + (hostHasAVX2 ? [.define("ROBUSTVAE_FMA")] : [])
        ),
        // what the five tools share on the command line: option groups, choices, JSON lines,
        // one-line errors and exit statuses
        .target(name: "CLI", dependencies: ["Shared", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "vae-train", dependencies: ["Shared", "CLI"]),
        .executableTarget(name: "vae-attack", dependencies: ["Shared", "CLI"]),
        .executableTarget(name: "vae-certify", dependencies: ["Shared", "CLI"]),
        .executableTarget(name: "vae-hmc", dependencies: ["Shared", "CLI"]),
        .executableTarget(name: "vae-eval", dependencies: ["Shared", "CLI"]),
        .executableTarget(name: "robustvae-bench", dependencies: ["Shared"], path: "bench/robustvae-bench"),
        .testTarget(name: "SharedTests", dependencies: ["Shared"], path: "Tests/SharedTests"),
    ]
)
