// Runs the script of an actions/github-script step the way the action does: the body of an
// async function of (github, context, core, require). `github` is a fake Octokit over the
// JSON state file: it serves the endpoints the reusable workflow reads and records writes.
// Usage: node github_script.js SCRIPT_FILE STATE_FILE; prints {calls, outputs} as JSON.
'use strict';
const fs = require('fs');

const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
const outputs = {};
const record = (method, params) => { calls.push({ method, params }); return { data: {} }; };
const page = (items, { per_page = 30, page = 1 }) => {
  const size = Math.min(per_page, state.page_size || 100); // the server caps per_page
  return { data: items.slice((page - 1) * size, page * size) };
};

const github = {
  async paginate(method, params) {
    const all = [];
    for (let n = 1; ; n++) {
      const { data } = await method({ ...params, page: n });
      if (data.length === 0) return all;
      all.push(...data);
    }
  },
  rest: {
    issues: {
      listComments: async (params) => page(state.comments || [], params),
      createComment: async (params) => record('createComment', params),
      updateComment: async (params) => record('updateComment', params),
    },
    repos: {
      listPullRequestsAssociatedWithCommit: async ({ commit_sha }) =>
        ({ data: (state.pulls || []).filter((p) => p.merge_commit_sha === commit_sha) }),
    },
    actions: {
      listWorkflowRunsForRepo: async ({ event, head_sha, status }) => {
        const runs = (state.runs || []).filter((r) =>
          r.event === event && r.head_sha === head_sha && r.conclusion === status);
        return { data: { total_count: runs.length, workflow_runs: runs } };
      },
      listWorkflowRunArtifacts: async ({ run_id, name }) => {
        const found = (state.artifacts || []).filter((a) =>
          a.run_id === run_id && (name === undefined || a.name === name));
        return { data: { total_count: found.length, artifacts: found } };
      },
    },
  },
};
const context = {
  repo: { owner: 'octo', repo: 'catalog' },
  issue: { owner: 'octo', repo: 'catalog', number: state.issue_number },
  sha: state.sha,
};
const core = {
  setOutput: (name, value) => { outputs[name] = String(value); },
  notice: (message) => record('notice', { message }),
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const script = fs.readFileSync(scriptFile, 'utf8');
new AsyncFunction('github', 'context', 'core', 'require', script)(github, context, core, require)
  .then(() => process.stdout.write(JSON.stringify({ calls, outputs })))
  .catch((error) => { console.error(error); process.exit(1); });
