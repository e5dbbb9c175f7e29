/**
 * The emulator's TLS: real portals (and oauth.bitrix.info) are HTTPS, so the emulator serves its
 * portals with a certificate signed by a CA of its own. Clients trust that CA the way they would
 * trust a company CA, from outside the code: `NODE_EXTRA_CA_CERTS=<caFile>` for Node, the CA's
 * key hash for Chromium (`spkiSha256`).
 *
 * Files, all next to `caFile` (`<os tmpdir>/b24-emulator-ca-<pid>.pem` unless an option or
 * `EMULATOR_CA_FILE` names it):
 *   <name>.pem         the CA certificate, the file to trust
 *   <name>.key.pem     the CA's key and certificate together (the pair stays consistent)
 *   <name>.server.pem  the server's key and certificate together (127.0.0.1, ::1, localhost)
 * Existing files are reused, so processes started later (or test workers) trust and serve the
 * same CA, and a process skips the RSA key generation (about 0.2 s per key here).
 *
 * `selfsigned` makes both certificates: version 5 signs with a given CA key (`ca` option), so the
 * openssl CLI is not needed.
 */
import { spawn } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface EmulatorTls {
  /** the CA certificate's file: what NODE_EXTRA_CA_CERTS names */
  caFile: string;
  caCert: string;
  /** the server's key and its chain (server certificate, then the CA) for https.createServer */
  key: string;
  cert: string;
}

const DAY_MS = 24 * 3600 * 1000;
const CA_VALID_DAYS = 3650;
const SERVER_VALID_DAYS = 365;
const SERVER_HOSTS = ['127.0.0.1', '::1', 'localhost'];

export function defaultCaFile(): string {
  return process.env.EMULATOR_CA_FILE || join(tmpdir(), `b24-emulator-ca-${process.pid}.pem`);
}

function companions(caFile: string) {
  const stem = caFile.replace(/\.pem$/, '');
  return { caBundle: `${stem}.key.pem`, serverBundle: `${stem}.server.pem` };
}

const loaded = new Map<string, Promise<EmulatorTls>>();

/**
 * The CA (made or reused) and a server certificate it signed for 127.0.0.1, ::1, localhost and
 * `extraHost` if given. Cached per process.
 */
export function emulatorTls(options: { caFile?: string; extraHost?: string } = {}): Promise<EmulatorTls> {
  const caFile = options.caFile ?? defaultCaFile();
  const hosts = options.extraHost && !SERVER_HOSTS.includes(options.extraHost) ? [...SERVER_HOSTS, options.extraHost] : SERVER_HOSTS;
  const cacheKey = `${caFile}|${hosts.join(',')}`;
  let tls = loaded.get(cacheKey);
  if (!tls) {
    tls = load(caFile, hosts);
    loaded.set(cacheKey, tls);
    tls.catch(() => loaded.delete(cacheKey));
  }
  return tls;
}

/** Removes the files `emulatorTls` wrote for this CA. */
export function removeTlsFiles(caFile: string): void {
  const { caBundle, serverBundle } = companions(caFile);
  for (const file of [caFile, caBundle, serverBundle]) rmSync(file, { force: true });
  for (const key of loaded.keys()) if (key.startsWith(`${caFile}|`)) loaded.delete(key);
}

/**
 * For a script that runs the emulator and its clients in one process (the demo, the benchmarks).
 * Node reads NODE_EXTRA_CA_CERTS only when a process starts, so a process started without it
 * cannot come to trust the CA later: unless this one was started trusting the emulator's CA
 * (NODE_EXTRA_CA_CERTS = EMULATOR_CA_FILE), make the CA, run the same script again with both
 * variables naming it, and exit with its exit code. Returns only in a process that trusts it.
 */
export async function runTrustingEmulatorCa(): Promise<void> {
  const given = process.env.EMULATOR_CA_FILE;
  if (given && process.env.NODE_EXTRA_CA_CERTS === given) return;
  const { caFile } = await emulatorTls({ caFile: given });
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, EMULATOR_CA_FILE: caFile },
  });
  // Ctrl-C reaches the child from the terminal itself; this process only waits for it.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const [code] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (!given) removeTlsFiles(caFile);
  process.exit(code ?? 1);
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo: Chromium's --ignore-certificate-errors-spki-list. */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

async function load(caFile: string, hosts: string[]): Promise<EmulatorTls> {
  const { caBundle, serverBundle } = companions(caFile);
  const ca = readPair(caBundle, (cert) => cert.ca) ?? (await makeCa(caBundle));
  if (!existsSync(caFile) || readFileSync(caFile, 'utf8') !== ca.cert) writeAtomically(caFile, ca.cert);
  const caX509 = new X509Certificate(ca.cert);
  const server =
    readPair(serverBundle, (cert) => cert.verify(caX509.publicKey) && hosts.every((host) => covers(cert, host))) ??
    (await makeServerCertificate(serverBundle, ca, hosts));
  return { caFile, caCert: ca.cert, key: server.key, cert: `${server.cert}${ca.cert}` };
}

interface Pair {
  key: string;
  cert: string;
}

/** A key+certificate file, if it exists, the two match, it is valid for another day and `usable` holds. */
function readPair(file: string, usable: (cert: X509Certificate) => boolean): Pair | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  if (!key || !cert) return null;
  try {
    const x509 = new X509Certificate(cert);
    const der = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' });
    const matches = der(createPublicKey(createPrivateKey(key))).equals(der(x509.publicKey));
    const fresh = Date.parse(x509.validTo) - Date.now() > DAY_MS;
    return matches && fresh && usable(x509) ? { key, cert } : null;
  } catch {
    return null;
  }
}

function covers(cert: X509Certificate, host: string): boolean {
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

async function makeCa(file: string): Promise<Pair> {
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: `Bitrix24 emulator CA ${process.pid}` }], {
    // P-256 rather than RSA: a handshake's signature costs a few hundredths of a millisecond
    // instead of one or two, which counts when one process serves hundreds of portals' TLS.
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + CA_VALID_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return savePair(file, pems);
}

async function makeServerCertificate(file: string, ca: Pair, hosts: string[]): Promise<Pair> {
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + SERVER_VALID_DAYS * DAY_MS),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((host) => (isIP(host) ? { type: 7 as const, ip: host } : { type: 2 as const, value: host })) },
    ],
  });
  return savePair(file, pems);
}

/** selfsigned's PEMs end without a newline; concatenated PEM blocks need one. */
function savePair(file: string, pems: { private: string; cert: string }): Pair {
  const line = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);
  const pair = { key: line(pems.private), cert: line(pems.cert) };
  writeAtomically(file, `${pair.key}${pair.cert}`, 0o600);
  return pair;
}

/** Write then rename, so a process reading at the same moment sees the old file or the new one. */
function writeAtomically(file: string, text: string, mode = 0o644): void {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}
