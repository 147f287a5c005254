// Child process of the exit scenarios: the example library's calls without the bindings, to time
// a plain script's exit.
import { basicExample } from "./libraries.ts";

basicExample.fibonacci(6, false);
basicExample.runWorkers(2, 3);
console.log("done plain");
