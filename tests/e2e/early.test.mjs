// Each staff screen asks its first requests from its address as soon as the phone's store is open, before the
// app mounts (src/online/early.rs), and takes their answers instead of asking again: opened as a page of its
// own (a link from a message, a bookmark, a reload), as a person opens it. The township's own screen is in
// township.test.mjs, opened from the home screen.

import { api, e2eTest, startServer } from './harness.mjs';
import { apiSession, opensAskingEarly, signedInPhone } from './flows.mjs';

e2eTest('every staff screen asks the server before the app mounts, and asks each thing once', async () => {
  const server = await startServer();
  const opens = async (code, screens) => {
    const { page } = await signedInPhone(server, code);
    for (const [address, paths] of screens) {
      await opensAskingEarly(page, address, () => page.goto(address), paths.map((path) => `/api/v1${path}`));
    }
  };

  const township = await apiSession(server.url, 'GH-T01');
  const tid = township.me.home_org.id;
  const { body: members } = await api(server.url, `/api/v1/orgs/${tid}/members`, { token: township.token });
  const person = members[0].person_id;
  await opens('GH-T01', [
    [`/township/${tid}/summary`, [`/orgs/${tid}/members`, `/orgs/${tid}/flow`]],
    [`/township/${tid}/${person}`, [`/people/${person}`]],
  ]);

  const county = (await apiSession(server.url, 'GH-C01')).me.home_org.id;
  await opens('GH-C01', [[`/county/${county}`, [`/orgs/${county}/tree`, `/orgs/${county}/notices`]]]);

  const org = (await apiSession(server.url, 'GH-S01')).me.home_org.id;
  await opens('GH-S01', [[`/org/${org}`, [`/orgs/${org}/overview`, `/orgs/${org}/notices`]]]);
});
