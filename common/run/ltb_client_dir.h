/*
 * ltb_client_dir.h: the client registry and where the tools find things.
 *
 * A client is a directory clients/NAME/ holding an executable `run` and,
 * optionally, an idempotent `setup` that installs its dependencies. The
 * registry is searched in order: $LTB_CLIENTS_DIR, then the share
 * directory of an installed tree (BINDIR/../share/ltb/clients), then the
 * source tree the tools were built in (build/bin/../../clients).
 *
 * A client may say what it speaks in clients/NAME/protocol, one line
 * naming a control message Protocol (lightstep, otlp, spectatord,
 * atlas): what the tools tell it when no --protocol says otherwise. A
 * client without the file speaks lightstep.
 *
 * Likewise clients/NAME/contract names how it is started and told what to
 * do (ltb-client(7)): http (the default: it fetches its control message
 * from LTB_CONTROL_URL) or argv (the original LightStep Benchmarks' flags,
 * --trace 0|1 --sleep NS ... --num_logs N, after its command).
 */
#ifndef LTB_CLIENT_DIR_H
#define LTB_CLIENT_DIR_H

#include <stddef.h>

/* The directory of client name into dir. 0, or -1 with a message in err
 * naming the places searched. */
int ltb_client_dir(const char *name, char *dir, size_t len, char *err,
    size_t errlen);

/* The protocol the client in dir speaks (LTB_CONTROL_*, ltb_control_msg.h)
 * into *protocol: its `protocol` file's one line (blank lines and lines
 * starting with # aside, spaces around the name ignored), or lightstep
 * when it has no such file. 0, or -1 with a message in err naming the
 * file and line ("clients/x/protocol:1: unknown protocol 'zipkin' (known:
 * lightstep, otlp, spectatord, atlas)"). */
int ltb_client_protocol(const char *dir, int *protocol, char *err,
    size_t errlen);

/* How a client is started: LTB_CONTRACT_HTTP, or LTB_CONTRACT_ARGV. */
enum { LTB_CONTRACT_HTTP = 0, LTB_CONTRACT_ARGV = 1 };

/* A contract by its name ("http", "argv"), or -1; and its name. */
int ltb_contract(const char *name);
const char *ltb_contract_name(int contract);

/* The contract of the client in dir into *contract: its `contract`
 * file's one line, read as the protocol file is, or http when it has no
 * such file. 0, or -1 with a message in err naming the file and line
 * ("clients/x/contract:3: unknown contract 'soap' (known: http, argv)"). */
int ltb_client_contract(const char *dir, int *contract, char *err,
    size_t errlen);

/* Run the client's setup, if it has one, with its output on stderr.
 * 0 (also when there is none), or -1 with a message in err. */
int ltb_client_setup(const char *dir, char *err, size_t errlen);

/* The directory holding the running executable, into buf. */
int ltb_self_dir(char *buf, size_t len);

/* A sibling tool of the running one (its directory, else PATH): for
 * ltb-sample starting ltb-satellite. */
void ltb_sibling_tool(const char *name, char *buf, size_t len);

#endif
