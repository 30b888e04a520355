// `qnox-offline-sync/cancel-create`: a DELETE of what was only created locally drops both, as a plug-in.
export { cancelCreate } from './plugins/cancel-create/cancel-create.js';
