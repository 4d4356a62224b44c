using BenchmarkDotNet.Running;

// Micro-benchmarks of the pieces every engine runs per message. Run in Release, for example:
//   dotnet run -c Release --project tests/IoModels.Benchmarks -- --filter '*'
//   dotnet run -c Release --project tests/IoModels.Benchmarks -- --filter '*AsciiUpper*' --job short
//   dotnet run -c Release --project tests/IoModels.Benchmarks -- --filter '*EngineEcho*' --job short
// The memory diagnoser is on: "Allocated" must stay "-" (zero) for the per-message paths, and per
// echoed message for every engine (EngineEchoBenchmarks; signal shows the runtime's per-signal cost).
BenchmarkSwitcher.FromAssembly(typeof(IoModels.Benchmarks.AsciiUpperBenchmarks).Assembly).Run(args);
