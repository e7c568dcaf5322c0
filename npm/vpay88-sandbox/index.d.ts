/** Options of start(): each maps to a flag of `vpay88-sandbox serve`. */
export interface StartOptions {
  /** "document" or "observed" (--profile); default the config's, document. */
  profile?: "document" | "observed";
  /** The address to listen on; default "127.0.0.1". */
  host?: string;
  /** The port; default 0, a free one (the sandbox writes the URL it bound to an address file). */
  port?: number;
  /** State in a temporary file removed on exit, without fsync; default true. */
  ephemeral?: boolean;
  /** Callback retries within 34 s instead of 12 h; default true. */
  fastRetries?: boolean;
  /** The callback URL of the configured merchant vpay88-test (--callback-url). */
  callbackUrl?: string;
  /** Bearer token guarding /sandbox/api (--admin-token). */
  adminToken?: string;
  /** A YAML config file (--config). */
  config?: string;
  /** More flags of `vpay88-sandbox serve`. */
  args?: string[];
  /** The sandbox's environment; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Copy the sandbox's log to this process's stderr. */
  log?: boolean;
  /** Milliseconds to wait for /healthz; default 30000. */
  timeout?: number;
  /** The binary to run; default binaryPath(). */
  binary?: string;
}

/** A running sandbox. */
export interface Sandbox {
  /** Its base URL, e.g. http://127.0.0.1:41234: the vendor API, /checkout, /sandbox/. */
  url: string;
  /** The binary's process id. */
  pid: number;
  /** Stops it gracefully (SIGTERM; SIGKILL after 10 s) and removes its temporary files. */
  stop(): Promise<void>;
  /** The last 64 KiB of its log. */
  log(): string;
}

/** Runs one sandbox and resolves once it answers /healthz. */
export function start(opts?: StartOptions): Promise<Sandbox>;

/** The path of this platform's binary (VPAY88_SANDBOX_BINARY overrides it). */
export function binaryPath(): string;

/** `${process.platform}-${process.arch}` → the package holding that binary. */
export const PLATFORMS: Readonly<Record<string, string>>;
