// swift-tools-version:5.9
import PackageDescription

/// RobustVAE: small command-line tools for the adversarial robustness of VAEs.
/// All numeric and file logic lives in `Shared`; the five executables are thin front ends.
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "vae-train", dependencies: ["Shared"]),
        .executableTarget(name: "vae-attack", dependencies: ["Shared"]),
        .executableTarget(name: "vae-certify", dependencies: ["Shared"]),
        .executableTarget(name: "vae-hmc", dependencies: ["Shared"]),
        .executableTarget(name: "vae-eval", dependencies: ["Shared"]),
        .executableTarget(name: "robustvae-bench", dependencies: ["Shared"], path: "bench/robustvae-bench"),
        .testTarget(name: "SharedTests", dependencies: ["Shared"], path: "Tests/SharedTests"),
    ]
)
