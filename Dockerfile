# memberpay: multi-stage build, runs as the unprivileged `node` user with `node dist/src/main.js`.
# Migrations run from the same image: node node_modules/typeorm/cli.js migration:run -d dist/src/data-source.js
# Node 22: what the dependencies' engines ask for together (nestjs-pino >=22.12, file-type >=22,
# typeorm ^22.13 on the 22 line); node:22 follows the latest 22.x release.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The checkout page at / is served from its source files: plain ES modules and CSS, nothing to build.
COPY --chown=node:node web/checkout ./web/checkout
USER node
EXPOSE 8001
# SIGTERM drains in-flight requests and jobs, closes the pool, then exits 0 (stop_grace_period 30s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
