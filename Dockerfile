# The API, the worker, the migrator and the demo stand-ins: one image of plain JavaScript, several commands
# (docker-compose.yml). Two stages: `build` compiles TypeScript and prebuilds the workflow bundle; `runtime` has
# production dependencies and dist/ only, so there is no tsx and no TypeScript at run time.
#
# Node 22 LTS. The version is pinned here, and `scripts/ensure-deps.sh` reads this line to install the same Node for
# the tests (`bash scripts/test.sh` runs the replay test and the built image's smoke test on it).
ARG NODE_VERSION=22.23.5

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Every dependency, dev ones included: tsc and the SDK's bundler run here.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY api ./api
COPY activities ./activities
COPY clients ./clients
COPY lib ./lib
COPY workers ./workers
COPY workflows ./workflows
COPY dev ./dev
# tsc into dist/, the SQL migrations beside the compiled migrator, and the workflow bundle built once with
# bundleWorkflowCode (scripts/build-workflow-bundle.ts) into dist/workflow-bundle.js.
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# CA roots for the Temporal SDK's native (Rust) connection when TLS points it at a remote cluster.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# The worker loads this bundle (workflowBundle) instead of bundling workflows/ at every start.
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# Production dependencies only; a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The media volume mounts here; created owned by `node` so the worker can write to it.
RUN mkdir -p /app/.data/media && chown -R node:node /app/.data
USER node
EXPOSE 3000
# The API's readiness (Temporal answers). Compose gives the worker and the stand-ins checks of their own.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 CMD ["node", "dist/scripts/healthcheck.js"]
CMD ["node", "dist/api/main.js"]
