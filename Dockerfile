# syntax=docker/dockerfile:1
# jit-broker: one image, two processes (the chart runs `node dist/api/main.js` and
# `node dist/worker/main.js`). Every RUN below is a command the project's own build runs;
# infra/tools/dockerfile.ts and test/deploy-dockerfile.test.ts keep them in step.
#
#   docker build -t jit-broker:0.1.0 .
#
# Pin the base by digest in your registry mirror: node:24-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency, TypeScript compiled to dist/ (and the prebuilt workflow bundle).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# --- deps: production dependencies only, native modules built for the runtime's Node.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: no compiler, no sources, no dev dependencies; runs as a non-root numeric user.
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node (graceful shutdown of the API and the worker) and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# The same uid/gid as the chart's securityContext; files stay root-owned and read-only to it.
USER 10001:10001
EXPOSE 8080
# No HEALTHCHECK: the worker serves no HTTP and Kubernetes ignores it; the chart probes the API
# (/readyz, /healthz). For plain Docker add one on the API container only, e.g.
#   --health-cmd "node -e \"fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/main.js"]
