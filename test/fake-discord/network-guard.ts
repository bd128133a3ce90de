/**
 * Fails the test if anything tries to connect anywhere but loopback: a hidden call to discord.com (or
 * any other host) would make the suite depend on the network and could leak a token. Wraps
 * net.Socket.prototype.connect, which every TCP client in Node (http, undici, ws, fetch) goes through.
 */
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

export interface NetworkGuard {
  /** Hosts something tried to reach; the test asserts this stays empty. */
  readonly violations: string[];
  restore(): void;
}

export function installNetworkGuard(): NetworkGuard {
  const violations: string[] = [];
  const original = net.Socket.prototype.connect;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: any[]) {
    const first = args[0];
    const opts = Array.isArray(first) ? first[0] : first;
    const host: unknown = typeof opts === 'object' && opts !== null ? (opts.path ? 'unix-socket' : (opts.host ?? 'localhost')) : typeof args[1] === 'string' ? args[1] : 'localhost';
    if (host !== 'unix-socket' && !LOOPBACK.test(String(host))) {
      violations.push(String(host));
      throw new Error(`network guard: connection to ${String(host)} refused (tests touch loopback only)`);
    }
    return original.apply(this, args as Parameters<typeof original>);
  } as typeof original;
  return {
    violations,
    restore: () => {
      net.Socket.prototype.connect = original;
    },
  };
}
