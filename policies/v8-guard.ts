// Imported before @cedar-policy/cedar-wasm. cedar-wasm 4.13 exports functions that return
// `externref`; V8 before 13.6 (Node 20 to 23) inlines such JS-to-Wasm calls in TurboFan, and when
// the optimized caller is deoptimized during the call (JS code the Wasm side calls back into changes
// what the caller was compiled for) V8 aborts in Deoptimizer::DoComputeBuiltinContinuation (SIGTRAP,
// exit 133). Node 24 does not crash; the guard stays so that an older Node cannot bring the API or
// the worker down. It turns off only that inlining, not TurboFan. Node refuses V8 flags in
// NODE_OPTIONS, so it is set here, at run time, before any Cedar call is compiled.
// test/v8-wasm-deopt.test.ts runs the pattern with and without it.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-turbo-inline-js-wasm-calls');
