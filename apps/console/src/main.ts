import {
  Api,
  ApiError,
  type Counts,
  type DeliveriesSummary,
  type Delivery,
  type DeliveryFilter,
  type GatewayInfo,
  STATUSES,
} from './api.ts';
import { byId, h, setText, show } from './dom.ts';
import { duration, plural, relative } from './format.ts';

const POLL_MS = 1000;
const INFO_EVERY_MS = 10_000;
const PAGE = 100;

const api = new Api();
const state = {
  info: undefined as GatewayInfo | undefined,
  infoAt: 0,
  summary: undefined as DeliveriesSummary | undefined,
  items: [] as Delivery[],
  selected: new Set<string>(),
  polling: false,
  timer: undefined as number | undefined,
  /** Bumped when the key changes: an answer to a request sent with the previous key is dropped. */
  generation: 0,
};

const filterStatus = byId<HTMLSelectElement>('filter-status');
const filterPlugin = byId<HTMLSelectElement>('filter-plugin');
const listBody = byId<HTMLTableElement>('list').tBodies[0] as HTMLTableSectionElement;
const selectAll = byId<HTMLInputElement>('select-all');
const actionResult = byId('action-result');

// ---- what runs ----

const wide = window.matchMedia('(min-width: 1000px)');
wide.addEventListener('change', () => {
  for (const details of byId('plugins').querySelectorAll('details')) details.open = wide.matches;
});

function renderInfo(info: GatewayInfo): void {
  const mode = byId('mode');
  setText(mode, info.mode === 'sandbox' ? 'Sandbox: nothing reaches the real upstream' : 'Live');
  mode.className = `badge ${info.mode}`;
  const ready = byId('ready');
  setText(ready, info.ready ? 'Ready' : `Not ready: ${info.readiness ?? 'unknown'}`);
  ready.className = `badge ${info.ready ? 'isready' : 'notready'}`;
  setText(byId('version'), `version ${info.version}`);

  const plugins = byId('plugins');
  const signature = JSON.stringify(info.plugins);
  if (plugins.dataset.signature !== signature) {
    plugins.dataset.signature = signature;
    // Open beside the deliveries on a wide screen; folded on a phone, where they would push the deliveries far down.
    const open = wide.matches;
    plugins.replaceChildren(
      ...info.plugins.map((plugin) => {
        const details = h(
          'details',
          { class: 'plugin' },
          h(
            'summary',
            {},
            h('strong', {}, plugin.title),
            ' ',
            h(
              'span',
              { class: 'muted small' },
              `(${plugin.id}${plugin.builtIn ? ', built in' : plugin.mode ? `, ${plugin.mode}` : ''}; ${plural(plugin.operations.length, 'operation')})`,
            ),
          ),
          h(
            'ul',
            { class: 'ops' },
            ...plugin.operations.map((operation) =>
              h(
                'li',
                {},
                h('a', { href: operation.docs ?? '/docs/' }, operation.title),
                h(
                  'div',
                  { class: 'muted small' },
                  h('code', {}, `${operation.method} ${operation.path}`),
                  ...(operation.tool ? [' · MCP ', h('code', {}, operation.tool)] : []),
                ),
              ),
            ),
          ),
        );
        details.open = open;
        return details;
      }),
    );
    const current = filterPlugin.value;
    filterPlugin.replaceChildren(
      h('option', { value: '' }, 'All plugins'),
      ...info.plugins.filter((plugin) => !plugin.builtIn).map((plugin) => h('option', { value: plugin.id }, plugin.title)),
    );
    filterPlugin.value = current;
  }

  const url = mcpUrl(info);
  setText(byId('mcp-url'), url ?? 'not listening');
  const server: Record<string, unknown> = { type: 'http', url: url ?? '' };
  if (info.inboundKeys) server.headers = { 'X-API-Key': '<your gateway API key>' };
  setText(byId('mcp-config'), JSON.stringify({ mcpServers: { gateway: server } }, null, 2));
  renderPaused(info.pausedPlugins);
}

/** The MCP URL as this browser reaches it: a gateway listening on every interface reports 0.0.0.0 or [::]. */
function mcpUrl(info: GatewayInfo): string | undefined {
  if (!info.mcp) return undefined;
  const url = new URL(info.mcp.url);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = location.hostname;
  return url.toString();
}

function renderPaused(paused: readonly string[]): void {
  const element = byId('paused');
  show(element, paused.length > 0);
  setText(
    element,
    paused.length > 0
      ? `Deliveries paused for ${paused.join(', ')}: the upstream refuses the gateway's own credential. Events are still queued; fix the key and they go out.`
      : '',
  );
}

// ---- counts ----

function renderSummary(summary: DeliveriesSummary): void {
  for (const status of STATUSES) setText(byId(`count-${status}`), String(summary.byStatus[status] ?? 0));
  setText(byId('oldest-queued'), summary.oldestQueuedAgeMs === null ? 'none' : duration(summary.oldestQueuedAgeMs));
  setText(byId('per-minute'), String(summary.deliveredLastMinute));
  const rows = Object.entries(summary.byPlugin).sort(([a], [b]) => a.localeCompare(b));
  const body = byId<HTMLTableElement>('by-plugin').tBodies[0] as HTMLTableSectionElement;
  const signature = JSON.stringify(rows);
  if (body.dataset.signature !== signature) {
    body.dataset.signature = signature;
    body.replaceChildren(
      ...(rows.length > 0
        ? rows.map(([plugin, counts]) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, plugin),
              ...STATUSES.map((status) => h('td', { class: 'num' }, String(counts[status] ?? 0))),
            ),
          )
        : [h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No deliveries yet.'))]),
    );
  }
  renderPaused(summary.pausedPlugins);
  setText(byId('updated'), new Date().toLocaleTimeString());
}

// ---- the list ----

const rows = new Map<string, { row: HTMLTableRowElement; checkbox: HTMLInputElement; signature: string }>();

function pluginOf(delivery: Delivery): string {
  return delivery.plugin ?? delivery.operation.split('.')[0] ?? '';
}

function describe(delivery: Delivery): string {
  const summary = delivery.summary ?? {};
  return [summary.eventName ?? delivery.operation, summary.identifyId ? `for ${summary.identifyId}` : ''].filter(Boolean).join(' ');
}

function renderList(items: readonly Delivery[]): void {
  const seen = new Set<string>();
  const ordered: HTMLTableRowElement[] = [];
  for (const delivery of items) {
    seen.add(delivery.id);
    let entry = rows.get(delivery.id);
    if (!entry) {
      const checkbox = h('input', { type: 'checkbox', 'aria-label': `Select ${describe(delivery)} (${delivery.id})` });
      checkbox.addEventListener('change', () => {
        if (checkbox.checked) state.selected.add(delivery.id);
        else state.selected.delete(delivery.id);
        renderSelection();
      });
      entry = { row: h('tr', { 'data-id': delivery.id }), checkbox, signature: '' };
      rows.set(delivery.id, entry);
    }
    const signature = JSON.stringify(delivery);
    if (entry.signature !== signature) {
      entry.signature = signature;
      fillRow(entry.row, entry.checkbox, delivery);
    }
    entry.checkbox.checked = state.selected.has(delivery.id);
    ordered.push(entry.row);
  }
  for (const [id, entry] of rows) {
    if (seen.has(id)) continue;
    entry.row.remove();
    rows.delete(id);
    state.selected.delete(id);
  }
  // Moves only what is out of place, so the row holding the keyboard focus stays put.
  ordered.forEach((row, index) => {
    if (listBody.children[index] !== row) listBody.insertBefore(row, listBody.children[index] ?? null);
  });
  const empty = listBody.querySelector('tr.empty');
  if (items.length === 0 && !empty)
    listBody.append(h('tr', { class: 'empty' }, h('td', { colspan: '9', class: 'muted' }, 'No deliveries match this filter.')));
  if (items.length > 0) empty?.remove();
  renderSelection();
}

function fillRow(row: HTMLTableRowElement, checkbox: HTMLInputElement, delivery: Delivery): void {
  const summary = delivery.summary ?? {};
  const error = delivery.lastError;
  const actions = h('td', { class: 'row-actions' });
  const label = describe(delivery);
  if (delivery.status === 'dead') {
    const retry = h('button', { type: 'button', class: 'small', 'aria-label': `Retry ${label}` }, 'Retry');
    retry.addEventListener('click', () => void act('retry', { ids: [delivery.id] }, `Retry 1 dead delivery (${label})?`));
    actions.append(retry, ' ');
  }
  if (delivery.status === 'dead' || delivery.status === 'queued') {
    const discard = h('button', { type: 'button', class: 'small danger', 'aria-label': `Discard ${label}` }, 'Discard');
    discard.addEventListener(
      'click',
      () => void act('discard', { ids: [delivery.id] }, `Discard 1 ${delivery.status} delivery (${label})? It will not be sent.`),
    );
    actions.append(discard);
  }
  row.replaceChildren(
    h('td', {}, checkbox),
    h('td', { 'data-label': 'Event' }, summary.eventName ?? delivery.operation, h('div', { class: 'muted small' }, pluginOf(delivery))),
    h('td', { 'data-label': 'User' }, summary.identifyId ?? '–'),
    h('td', { 'data-label': 'Account' }, summary.accountId ?? '–'),
    h('td', { 'data-label': 'Status' }, h('span', { class: `status ${delivery.status}` }, delivery.status)),
    h('td', { 'data-label': 'Attempts', class: 'num' }, String(delivery.attempts)),
    h(
      'td',
      { 'data-label': 'Next attempt' },
      delivery.status === 'queued' && delivery.nextAttemptAt
        ? h('time', { datetime: delivery.nextAttemptAt }, relative(delivery.nextAttemptAt))
        : '–',
    ),
    h(
      'td',
      { 'data-label': 'Last error', class: 'error-cell' },
      error ? `${error.status ? `${error.status} ` : ''}${error.type}: ${error.detail}` : '–',
    ),
    actions,
  );
}

function renderSelection(): void {
  const count = state.selected.size;
  const retry = byId<HTMLButtonElement>('retry-selected');
  const discard = byId<HTMLButtonElement>('discard-selected');
  retry.disabled = count === 0;
  discard.disabled = count === 0;
  setText(retry, count > 0 ? `Retry selected (${count})` : 'Retry selected');
  setText(discard, count > 0 ? `Discard selected (${count})` : 'Discard selected');
  const shown = rows.size;
  selectAll.checked = shown > 0 && count === shown;
  selectAll.indeterminate = count > 0 && count < shown;
}

/** How many deliveries a filter action would touch, from the counts the page shows. */
function matchingCount(status: 'queued' | 'dead', plugin: string): number {
  const summary = state.summary;
  if (!summary) return 0;
  const counts: Counts | undefined = plugin ? summary.byPlugin[plugin] : summary.byStatus;
  return counts?.[status] ?? 0;
}

function renderFilterActions(): void {
  const status = filterStatus.value;
  const plugin = filterPlugin.value;
  const retry = byId<HTMLButtonElement>('retry-matching');
  const discard = byId<HTMLButtonElement>('discard-matching');
  // Retry touches only dead deliveries; discard queued or dead ones (never delivered or being delivered).
  const retryable = status === 'dead' || status === '' ? matchingCount('dead', plugin) : 0;
  const discardable = status === 'dead' || status === 'queued' ? matchingCount(status, plugin) : 0;
  retry.disabled = retryable === 0;
  discard.disabled = discardable === 0;
  setText(retry, `Retry all dead${plugin ? ` of ${plugin}` : ''} (${retryable})`);
  setText(
    discard,
    status === 'dead' || status === 'queued'
      ? `Discard all ${status}${plugin ? ` of ${plugin}` : ''} (${discardable})`
      : 'Discard all matching',
  );
  const label = status ? `${status[0]?.toUpperCase()}${status.slice(1)} deliveries` : 'All deliveries';
  setText(byId('list-caption'), `${label}${plugin ? ` of ${plugin}` : ''}`);
}

// ---- actions ----

function confirm(text: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  setText(byId('confirm-text'), text);
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }));
}

async function act(action: 'retry' | 'discard', filter: DeliveryFilter, question: string): Promise<void> {
  if (!(await confirm(question))) return;
  try {
    if (action === 'retry') {
      const { matched, retried } = await api.retry(filter);
      setText(
        actionResult,
        `Retried ${plural(retried, 'delivery', 'deliveries')}${matched !== retried ? ` of ${matched} matching (only dead ones, within the queue's caps)` : ''}.`,
      );
    } else {
      const { matched, discarded } = await api.discard(filter);
      setText(
        actionResult,
        `Discarded ${plural(discarded, 'delivery', 'deliveries')}${matched !== discarded ? ` of ${matched} matching` : ''}.`,
      );
    }
    for (const id of filter.ids ?? []) state.selected.delete(id);
  } catch (error) {
    if (isUnauthorized(error)) return askForKey('The gateway refused the key. Enter a valid one.');
    setText(actionResult, `Not done: ${(error as Error).message}`);
  }
  await refresh();
}

function selectedFilter(): DeliveryFilter {
  return { ids: [...state.selected] };
}

function selectedCount(status: 'dead' | 'queued' | 'both'): number {
  return state.items.filter(
    (item) =>
      state.selected.has(item.id) && (status === 'both' ? item.status === 'dead' || item.status === 'queued' : item.status === status),
  ).length;
}

function wireActions(): void {
  byId('retry-matching').addEventListener('click', () => {
    const plugin = filterPlugin.value;
    const count = matchingCount('dead', plugin);
    void act(
      'retry',
      { status: 'dead', ...(plugin ? { plugin } : {}) },
      `Retry all ${plural(count, 'dead delivery', 'dead deliveries')}${plugin ? ` of ${plugin}` : ''}? Each is queued again with a fresh retry window.`,
    );
  });
  byId('discard-matching').addEventListener('click', () => {
    const status = filterStatus.value as 'dead' | 'queued';
    const plugin = filterPlugin.value;
    const count = matchingCount(status, plugin);
    void act(
      'discard',
      { status, ...(plugin ? { plugin } : {}) },
      `Discard all ${plural(count, `${status} delivery`, `${status} deliveries`)}${plugin ? ` of ${plugin}` : ''}? They will not be sent.`,
    );
  });
  byId('retry-selected').addEventListener('click', () => {
    const dead = selectedCount('dead');
    void act(
      'retry',
      selectedFilter(),
      `Retry ${plural(dead, 'selected dead delivery', 'selected dead deliveries')}?${dead < state.selected.size ? ' Selected deliveries that are not dead are left as they are.' : ''}`,
    );
  });
  byId('discard-selected').addEventListener('click', () => {
    const count = selectedCount('both');
    void act(
      'discard',
      selectedFilter(),
      `Discard ${plural(count, 'selected delivery', 'selected deliveries')}? They will not be sent.${count < state.selected.size ? ' Delivered ones are left as they are.' : ''}`,
    );
  });
  selectAll.addEventListener('change', () => {
    for (const item of state.items) {
      if (selectAll.checked) state.selected.add(item.id);
      else state.selected.delete(item.id);
    }
    renderList(state.items);
  });
  byId('filter').addEventListener('change', () => {
    state.selected.clear();
    renderFilterActions();
    void refresh();
  });
  byId('filter').addEventListener('submit', (event) => event.preventDefault());
  const copy = (text: string, what: string) =>
    void navigator.clipboard.writeText(text).then(
      () => setText(byId('copy-result'), `${what} copied.`),
      () => setText(byId('copy-result'), `Copy failed: select the text and copy it by hand.`),
    );
  byId('copy-mcp-url').addEventListener('click', () => copy(byId('mcp-url').textContent ?? '', 'URL'));
  byId('copy-mcp-config').addEventListener('click', () => copy(byId('mcp-config').textContent ?? '', 'Configuration'));
}

// ---- the key ----

function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

function askForKey(message?: string): void {
  api.key = null;
  stopPolling();
  clearDeliveries();
  show(byId('deliveries'), false);
  show(byId('key-section'), true);
  const keyError = byId('key-error');
  show(keyError, message !== undefined);
  setText(keyError, message ?? '');
  byId<HTMLInputElement>('key-input').focus();
}

function wireKey(): void {
  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('key-input');
    api.key = input.value.trim();
    input.value = '';
    startDeliveries();
  });
  byId('forget-key').addEventListener('click', () => askForKey());
}

function renderScope(info: GatewayInfo): void {
  show(byId('forget-key'), info.inboundKeys);
  setText(
    byId('scope'),
    info.inboundKeys
      ? 'Showing only the deliveries sent with the API key you entered (the gateway keeps each client’s deliveries apart).'
      : 'No API keys are configured: the gateway tells callers apart by address, so this shows the deliveries sent from this browser’s address (as the API would).',
  );
}

/** Forgets what the previous key's client saw, so the next client's page starts empty. */
function clearDeliveries(): void {
  state.generation += 1;
  state.summary = undefined;
  state.items = [];
  state.selected.clear();
  for (const entry of rows.values()) entry.row.remove();
  rows.clear();
  for (const status of STATUSES) setText(byId(`count-${status}`), '–');
  setText(actionResult, '');
}

// ---- polling ----

async function refresh(): Promise<void> {
  const status = filterStatus.value;
  const plugin = filterPlugin.value;
  const generation = state.generation;
  try {
    const [summary, page] = await Promise.all([
      api.summary(),
      api.list({ limit: PAGE, ...(status ? { status } : {}), ...(plugin ? { plugin } : {}) }),
    ]);
    if (generation !== state.generation) return;
    state.summary = summary;
    // The list route filters by plugin where it can; this keeps the table right where it cannot.
    state.items = page.items.filter((item) => !plugin || pluginOf(item) === plugin);
    renderSummary(summary);
    renderList(state.items);
    renderFilterActions();
    const total = status
      ? plugin
        ? summary.byPlugin[plugin]?.[status as keyof Counts]
        : summary.byStatus[status as keyof Counts]
      : undefined;
    setText(
      byId('list-note'),
      page.nextCursor
        ? `Showing the first ${state.items.length}${total !== undefined ? ` of ${total}` : ''}; the actions on all matching cover every one.`
        : '',
    );
    show(byId('load-error'), false);
  } catch (error) {
    if (isUnauthorized(error)) return askForKey('The gateway refused the key. Enter a valid one.');
    showError(`Cannot read deliveries: ${(error as Error).message}`);
  }
  if (Date.now() - state.infoAt > INFO_EVERY_MS) void loadInfo();
}

function showError(message: string): void {
  const element = byId('load-error');
  setText(element, message);
  show(element, true);
}

function schedule(): void {
  if (!state.polling) return;
  state.timer = window.setTimeout(async () => {
    // A tab in the background asks nothing; it catches up when shown again.
    if (!document.hidden) await refresh();
    schedule();
  }, POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.polling) void refresh();
});

function stopPolling(): void {
  state.polling = false;
  if (state.timer !== undefined) window.clearTimeout(state.timer);
}

function startDeliveries(): void {
  show(byId('key-section'), false);
  show(byId('deliveries'), true);
  if (state.info) renderScope(state.info);
  if (state.polling) return;
  state.polling = true;
  void refresh().then(schedule);
}

async function loadInfo(): Promise<GatewayInfo | undefined> {
  state.infoAt = Date.now();
  try {
    const info = await api.gateway();
    state.info = info;
    renderInfo(info);
    return info;
  } catch (error) {
    showError(`Cannot reach the gateway: ${(error as Error).message}`);
    return undefined;
  }
}

async function boot(): Promise<void> {
  const info = await loadInfo();
  if (!info) {
    window.setTimeout(() => void boot(), 3000);
    return;
  }
  renderScope(info);
  if (info.deliveries === false) {
    show(byId('no-queue'), true);
    return;
  }
  if (info.inboundKeys && !api.key) askForKey();
  else startDeliveries();
}

wireActions();
wireKey();
void boot();
