// The `keyless` executable's entry point (bundled by scripts/build.mjs).
import { run } from './main';

// The SDK warns on every run under Node 20 about a future support change; Keyless supports Node 20 and 24,
// and the warning would bury the one or two lines a user needs to read.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
void run();
