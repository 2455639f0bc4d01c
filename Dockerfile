# The API and the worker: one image, two commands (see docker-compose.yml).
FROM node:20-bookworm-slim

# CA roots for the Temporal SDK's native (Rust) connection when TEMPORAL_TLS points it at a remote cluster.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so that a source change does not reinstall them. tsx runs the TypeScript sources;
# the worker bundles workflows/ at startup with the SDK's own bundler (a runtime dependency of @temporalio/worker).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# The media volume mounts here; created owned by `node` so the worker can write to it.
RUN mkdir -p /app/.data/media && chown -R node:node /app/.data

USER node
EXPOSE 3000
CMD ["npx", "tsx", "api/main.ts"]
